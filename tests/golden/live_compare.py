#!/usr/bin/env python3
"""Compare the rows `ringwatch dump` decoded with what the server returns.

usage: live_compare.py DUMP.jsonl SELECT.tsv SCHEMA TABLE
SELECT.tsv: `mariadb -B` output of live_select.sql's query: a header line of
column names, then one line per row, each value HEX() of its text (NULL as NULL).
The dump's row events of SCHEMA.TABLE are applied in order (WRITE sets a row,
UPDATE merges its after image, DELETE removes it), so MINIMAL and NOBLOB images
are checked too; every column the binlog carried is compared with the server.
"""
import base64
import json
import sys


def apply_events(path, schema, table):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("schema") != schema or ev.get("table") != table or "rows" not in ev:
                continue
            for r in ev["rows"]:
                img = r.get("before") or r.get("after")
                key = img.get("id", img.get("@1"))
                if "DELETE" in ev["type"]:
                    rows.pop(key, None)
                elif "WRITE" in ev["type"]:
                    rows[key] = dict(r["after"])
                else:
                    rows.setdefault(key, {}).update(r["after"])
    return rows


def as_bytes(ours):
    if isinstance(ours, dict):
        return base64.b64decode(ours["base64"])
    return str(ours).encode("utf-8")


def same(ours, text):
    """text: the server's bytes (None for NULL)."""
    if text is None:
        return ours is None
    if ours is None:
        return False
    if isinstance(ours, float):
        return abs(ours - float(text)) <= 1e-6 * max(1.0, abs(float(text)))
    if isinstance(ours, int) and ours < 0 and text.isdigit():
        # without SIGNEDNESS metadata an UNSIGNED column reads as signed
        return any(ours + (1 << bits) == int(text) for bits in (8, 16, 24, 32, 64))
    if isinstance(ours, int) and not text.lstrip(b"-").isdigit():
        return True  # ENUM/SET without member names: the index, not comparable
    raw = as_bytes(ours)
    # latin1 data without charset metadata comes as bytes
    return raw == text or raw.decode("latin-1").encode("utf-8") == text


def main():
    dump, tsv, schema, table = sys.argv[1:5]
    rows = apply_events(dump, schema, table)
    with open(tsv, "rb") as f:
        lines = f.read().split(b"\n")
    names = lines[0].decode().split("\t")
    bad = checked = 0
    for line in lines[1:]:
        if not line:
            continue
        vals = [None if v == b"NULL" else bytes.fromhex(v.decode())
                for n, v in zip(names, line.split(b"\t"))]
        rec = dict(zip(names, vals))
        rid = int(rec["id"].decode())
        ours = rows.get(rid)
        if ours is None:
            print(f"id {rid}: not in the dump")
            bad += 1
            continue
        for k, (n, v) in enumerate(rec.items()):
            col = n[4:] if n.startswith("bin_") else n
            if col not in ours:
                col = "@%d" % (k + 1)  # no column names: the query lists them in table order
            if col not in ours:
                continue
            checked += 1
            if not same(ours[col], v):
                bad += 1
                print(f"id {rid} {col}: dump {json.dumps(ours[col])[:80]}, server {v[:80]!r}")
    if len(rows) != len(lines) - 2:
        print(f"rows: dump {len(rows)}, server {len(lines) - 2}")
        bad += 1
    print(f"# {checked} values compared with the server, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
