"""Several nodes serving one DynamoDB log: leases with fencing tokens per conversation, the nodes'
items, and forwarding a bot's call to the node that owns its conversation (docs/cluster.md)."""

from cluster.node import ClusterNode, Conversations, OwnedElsewhere
from cluster.nodes import Node, NodeTable

__all__ = ["ClusterNode", "Conversations", "Node", "NodeTable", "OwnedElsewhere"]
