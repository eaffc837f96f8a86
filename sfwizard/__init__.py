"""sfwizard: guided, verified recovery of a disconnected Salesforce integration.

The core never imports Textual, and heavy libraries are imported where first needed.
"""

__version__ = "0.1.0"
