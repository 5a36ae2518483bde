"""Data shipped with okai-insight: the demo agent dataset (``demo.npz``) and its typed accessor."""

from okai_insight.data._dataset import (
    DEMO_NAMESPACE,
    DemoAccount,
    DemoDataset,
    DemoDefects,
    DemoLog,
    DemoQuery,
    DemoRoom,
    LabelledPair,
    demo_dataset,
    demo_id,
)

__all__ = [
    "DEMO_NAMESPACE",
    "DemoAccount",
    "DemoDataset",
    "DemoDefects",
    "DemoLog",
    "DemoQuery",
    "DemoRoom",
    "LabelledPair",
    "demo_dataset",
    "demo_id",
]
