"""The imitated Gainsight PX: its published REST API and the sync engine behind the Salesforce card."""
