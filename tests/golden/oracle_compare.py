#!/usr/bin/env python3
"""Compare `ringwatch dump` rows with `mariadb-binlog -v --base64-output=decode-rows`.

usage: oracle_compare.py DUMP.jsonl MARIADB.txt
Prints one line per mismatch and a summary; exit 0 when nothing differs.
Values mariadb-binlog cannot show (JSON, VECTOR, ENUM/SET names) are skipped.
"""
import base64
import calendar
import json
import re
import sys

ROW_START = re.compile(r"^### (INSERT INTO|UPDATE|DELETE FROM) `(.*)`\.`(.*)`$")
COL = re.compile(r"^###   @(\d+)=(.*)$")


def oracle_rows(path):
    rows, cur, part = [], None, None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            m = ROW_START.match(line)
            if m:
                op = {"INSERT INTO": "insert", "UPDATE": "update", "DELETE FROM": "delete"}[m.group(1)]
                cur = {"op": op, "schema": m.group(2), "table": m.group(3), "before": {}, "after": {}}
                rows.append(cur)
                part = "after" if op == "insert" else "before"
                continue
            if cur is None:
                continue
            if line == "### WHERE":
                part = "before"
            elif line == "### SET":
                part = "after"
            else:
                m = COL.match(line)
                if m:
                    cur[part][int(m.group(1))] = m.group(2)
                elif not line.startswith("###"):
                    cur = None
    return rows


def our_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if "rows" not in ev:
                continue
            op = ("insert" if "WRITE" in ev["type"] else "delete" if "DELETE" in ev["type"] else "update")
            for r in ev["rows"]:
                conv = {}
                for part in ("before", "after"):
                    conv[part] = {}
                    for i, (k, v) in enumerate((r.get(part) or {}).items()):
                        conv[part][k] = v
                rows.append({"op": op, "schema": ev.get("schema"), "table": ev.get("table"),
                             "before": conv["before"], "after": conv["after"], "type": ev["type"]})
    return rows


def unquote(s):
    """mariadb-binlog's quoted string to bytes."""
    assert s.startswith("'") and s.endswith("'")
    body = s[1:-1].encode("utf-8", errors="surrogateescape")
    out, i = bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == 0x5C and i + 1 < len(body):
            n = body[i + 1]
            if n == ord("x") and i + 3 < len(body):
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("0"): 0}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def quote(raw):
    """Bytes as mariadb-binlog prints them (control bytes as \\xNN, the rest raw)."""
    return "'" + "".join("\\x%02x" % c if c < 0x20 else bytes([c]).decode("latin-1")
                         for c in raw) + "'"


def same_bytes(raw, theirs):
    if unquote(theirs) == raw:
        return True
    # mariadb-binlog leaves backslashes and quotes unescaped: compare as printed
    return quote(raw).encode("latin-1") == theirs.encode("utf-8", errors="surrogateescape")


def same(ours, theirs):
    """True, False, or None when the oracle cannot show this value."""
    if theirs == "NULL":
        return ours is None
    if ours is None:
        return False
    if isinstance(ours, dict) and "base64" in ours:
        return theirs.startswith("'") and same_bytes(base64.b64decode(ours["base64"]), theirs)
    if isinstance(ours, (list,)) or theirs.startswith("!!"):
        return None
    if isinstance(ours, bool):
        return None
    if isinstance(ours, int):
        m = re.match(r"^(-?\d+)(?: \((\d+)\))?$", theirs)
        if m:
            return ours in (int(m.group(1)), int(m.group(2) or m.group(1)))
        m = re.match(r"^b'([01]+)'$", theirs)
        if m:
            return ours == int(m.group(1), 2)
        return False
    if isinstance(ours, float):
        try:
            t = float(theirs)
        except ValueError:
            return False
        return abs(ours - t) <= 1e-5 * max(1.0, abs(t))
    if isinstance(ours, str):
        if re.match(r"^'\d{4}:\d\d:\d\d'$", theirs):
            return ours == theirs[1:-1].replace(":", "-")  # mariadb-binlog prints DATE with colons
        if theirs.startswith("'"):
            return same_bytes(ours.encode("utf-8"), theirs) or \
                unquote(theirs).decode("latin-1") == ours
        if re.match(r"^-?\d+(\.\d+)?$", theirs) and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$", ours):
            # TIMESTAMP: mariadb-binlog prints seconds since the epoch
            date, _, frac = ours.partition(".")
            secs = 0 if date.startswith("0000") else calendar.timegm(
                tuple(int(x) for x in re.split(r"[- :]", date)) + (0, 0, 0))
            return theirs == (str(secs) + ("." + frac if frac else ""))
        if re.match(r"^-?\d+$", theirs) and not re.match(r"^-?\d+(\.\d+)?$", ours):
            return None  # ENUM: mariadb-binlog shows the index, ringwatch the name
        if re.match(r"^-?\d+(\.\d+)?$", theirs):
            return ours == theirs  # DECIMAL
        return None  # ENUM/SET names, JSON
    return None


def main():
    ours, theirs = our_rows(sys.argv[1]), oracle_rows(sys.argv[2])
    bad = checked = skipped = 0
    if len(ours) < len(theirs):
        print(f"row count: ours {len(ours)}, mariadb-binlog {len(theirs)}")
        bad += 1
    for n, (o, t) in enumerate(zip(ours, theirs)):
        if o["op"] != t["op"] or o["table"] != t["table"]:
            print(f"row {n}: ours {o['op']} {o['table']}, oracle {t['op']} {t['table']}")
            bad += 1
            continue
        for part in ("before", "after"):
            ov = list(o[part].values())
            keys = list(o[part].keys())
            tv = [t[part][k] for k in sorted(t[part])]
            if len(ov) != len(tv):
                print(f"row {n} {part}: ours {len(ov)} columns, oracle {len(tv)}")
                bad += 1
                continue
            for k, a, b in zip(keys, ov, tv):
                r = same(a, b)
                if r is None:
                    skipped += 1
                elif r:
                    checked += 1
                else:
                    bad += 1
                    print(f"row {n} {part} {k}: ours {json.dumps(a)[:120]}, oracle {b[:120]}")
    print(f"# {len(theirs)} oracle rows, {checked} values equal, {skipped} not comparable, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
