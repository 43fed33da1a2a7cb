"""Connectors (the seed's "BaaS"): a named call to an AWS operation, with its input and output mapped by JSONPath.

`config` is the file format, `stream` the connector's events in the store, `mapping` the pure
request and response mapping, `executor` the boto3 call, `credentials` the seam to the vault.
See README.md.
"""
