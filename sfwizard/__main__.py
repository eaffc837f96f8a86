from sfwizard.screens.launch import main

raise SystemExit(main())
