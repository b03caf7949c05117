# SPDX-License-Identifier: MIT
"""python3 -m batchpoint.sim FILE (see the package's docstring)."""
import sys

from . import main

sys.exit(main())
