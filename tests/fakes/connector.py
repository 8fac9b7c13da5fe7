"""The recording connector, which lives in `tether.testing` for plugin authors too."""

from tether.testing.connector import ApprovalRequest, RecordedReply, RecordingConnector

__all__ = ["ApprovalRequest", "RecordedReply", "RecordingConnector"]
