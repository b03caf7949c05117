# SPDX-License-Identifier: MIT
"""The per-case report (the first failure, the skip reason, skipped parts, notes) and the
lines bpsim prints for it: `PASS id [-- skipped parts: ... -- note: ...]`, `FAIL id: why`,
`SKIP id: why`, and `N passed, N failed, N skipped`."""


class Report:
    def __init__(self):
        self.failure = None  # the first difference
        self.skip_reason = None
        self.parts = []      # parts of the case not checked
        self.notes = []      # informational divergences

    @property
    def failed(self):
        return self.failure is not None

    @property
    def skipped(self):
        return self.skip_reason is not None

    def fail(self, msg):
        """Record the first failure (later ones are ignored)."""
        if self.failure is None:
            self.failure = msg
        return False

    def skip(self, msg):
        self.skip_reason = msg

    def part(self, msg):
        self.parts.append(msg)

    def note(self, msg):
        self.notes.append(msg)

    @property
    def status(self):
        return "FAIL" if self.failed else "SKIP" if self.skipped else "PASS"

    def line(self, case_id):
        """The result line of case @case_id."""
        if self.failed:
            return f"FAIL {case_id}: {self.failure}"
        if self.skipped:
            return f"SKIP {case_id}: {self.skip_reason}"
        detail = ""
        if self.parts:
            detail = "skipped parts: " + "; ".join(self.parts)
        if self.notes:
            detail += (" -- " if detail else "") + "note: " + "; ".join(self.notes)
        return f"PASS {case_id}" + (f" -- {detail}" if detail else "")


def summary(counts):
    return f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped"
