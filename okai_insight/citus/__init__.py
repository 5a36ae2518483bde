from okai_insight.citus._build import build_key, citus_install, default_cache_dir, pginstall, source_archive
from okai_insight.citus._cluster import CitusCluster, Node

__all__ = ["CitusCluster", "Node", "build_key", "citus_install", "default_cache_dir", "pginstall", "source_archive"]
