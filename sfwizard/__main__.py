from sfwizard.cli import main

raise SystemExit(main())
