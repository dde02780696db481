"""The base of the near-miss test candidates (rebinders/, misreaders/): the
interpreter's own socket module, with a bootstrap function from the candidate's
folder patched in at instance start. Each candidate gets one thing wrong, so a
catalogue case that passes against it could not tell it from a conforming sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.adapter import Adapter, CandidateInfo, InstanceSpec


class NearMissAdapter(Adapter):
    bootstrap = ""     # "module:function" in `folder`
    summary = ""
    folder = Path(__file__).parent

    def info(self) -> CandidateInfo:
        return CandidateInfo(self.bootstrap.split(":")[1].replace("_", "-"), "1", self.summary)

    def instance(self, app_id: str) -> InstanceSpec:
        return InstanceSpec(argv=[sys.executable, "-s"], bootstrap=self.bootstrap,
                            pythonpath=[str(self.folder)])
