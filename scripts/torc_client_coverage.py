"""Which operations of Torc's published Python client this server serves (`python scripts/torc_client_coverage.py`).

Reads every operation (method and path) of `torc.openapi_client` in `.venv-torc-client` (`make torc-client`) and
looks each up in the OpenAPI document the application serves; prints the count and the operations not served.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from torc_client.core.settings import API_PREFIX  # noqa: E402


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/") or "/"


def main() -> int:
    found = sorted(ROOT.glob(".venv-torc-client/lib/python3*/site-packages/torc/openapi_client/api/*_api.py"))
    if not found:
        print("no torc-client here: run `make torc-client` first", file=sys.stderr)
        return 2
    schema = create_app().openapi_schema.to_schema()
    served = {(method.upper(), _shape(path.removeprefix(API_PREFIX))) for path, item in schema["paths"].items()
              for method in item}  # fmt: skip
    operations = [(m.group(1).upper(), _shape(m.group(2)), path.stem) for path in found
                  for m in re.finditer(r"method='(\w+)',\s*resource_path='([^']+)'", path.read_text())]  # fmt: skip
    missing = sorted(op for op in operations if op[:2] not in served)
    print(f"{len(operations)} operations in torc-client; {len(operations) - len(missing)} served; {len(missing)} not")
    for method, path, module in missing:
        print(f"  {method} {path}  ({module})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
