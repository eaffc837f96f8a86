"""The sandbox: an HTTPS server on 127.0.0.1 speaking the Salesforce, Gainsight PX and status-page wire formats.

``--demo``, the tests and training all run the production code paths against it.
"""
