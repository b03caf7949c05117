# SPDX-License-Identifier: MIT
"""A PEP 517 build backend for the batchpoint package, standard library only, so that
`pip install lib/bindings/python` works offline (no setuptools or wheel to download).

It builds a pure-Python wheel of the batchpoint/ package (py3-none-any), and an sdist of
this directory; name and version come from pyproject.toml's [project] table (read with a
regular expression: tomllib is Python 3.11+ and the binding supports 3.9)."""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "batchpoint"


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("[project]"):]

    def field(name):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % name, table, re.M)
        return m.group(1)
    return {k: field(k) for k in ("name", "version", "description", "requires-python")}


def _metadata(p):
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "Requires-Python: %s\nLicense: MIT\n" % (
                p["name"], p["version"], p["description"], p["requires-python"]))


def _sources():
    """(path in the archive, path on disk) of the package's modules, sorted."""
    out = []
    root = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            out.append((PACKAGE + "/" + name, os.path.join(root, name)))
    return out


def _dist_info(p):
    return "%s-%s.dist-info" % (p["name"], p["version"])


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    p = _project()
    d = os.path.join(metadata_directory, _dist_info(p))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(p))
    return _dist_info(p)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    p = _project()
    name = "%s-%s-py3-none-any.whl" % (p["name"], p["version"])
    info = _dist_info(p)
    files = [(arc, open(path, "rb").read()) for arc, path in _sources()]
    files.append((info + "/METADATA", _metadata(p).encode()))
    files.append((info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: batchpoint _build_backend\n"
                  b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    record = io.StringIO()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            z.writestr(zipfile.ZipInfo(arc, (2020, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.write("%s,sha256=%s,%d\n" % (arc, digest.decode(), len(data)))
        record.write(info + "/RECORD,,\n")
        z.writestr(zipfile.ZipInfo(info + "/RECORD", (2020, 1, 1, 0, 0, 0)), record.getvalue())
    return name


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "_build_backend.py"] + [a for a, _ in _sources()]:
            t.add(os.path.join(HERE, rel), base + "/" + rel)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata(p).encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
