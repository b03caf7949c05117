# SPDX-License-Identifier: MIT
"""README.md's Python consumer runs as written: the ```python block of the "## Python"
section, executed in a fresh namespace; it must print both batches and the checkpoint."""
import contextlib
import io
import os
import unittest

README = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("\n## Python\n"):]
    section = section[:section.index("\n## ", 1)]
    blocks, rest = [], section
    while "```python\n" in rest:
        rest = rest[rest.index("```python\n") + 10:]
        blocks.append(rest[:rest.index("```")])
    return blocks


class ReadmeTest(unittest.TestCase):
    def test_consumer_runs(self):
        blocks = python_blocks()
        self.assertEqual(len(blocks), 1)
        self.assertLessEqual(len(blocks[0].splitlines()), 25)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(blocks[0], "README.md (Python consumer)", "exec"), {})
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0].split()[:2], ["['1',", "'2']"])
        self.assertEqual(lines[1].split()[0], "['3']")
        self.assertEqual(lines[-1], "3 3")


if __name__ == "__main__":
    unittest.main()
