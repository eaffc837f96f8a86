"""The SOQL engine: ``parse`` turns a query into a tree, ``engine`` runs it over an org's tables.

Callers use what is re-exported here; the two modules are the parser and the evaluator.
"""

from sfwizard.sandbox.salesforce.soql.engine import QueryResult, SoqlError, compile_where, run_query

__all__ = ["QueryResult", "SoqlError", "compile_where", "run_query"]
