#!/usr/bin/env python3
"""The DDL parser against a real MariaDB server (tests/ddl/differential.sh).

Every CREATE TABLE and ALTER TABLE statement of MariaDB's own regression
suite (the .test files of mariadb-test-data) runs, file by file, in a fresh
database on a real server; the statements the server accepts go, in the same
order, through the parser (tests/ddl/ddl_dump -s).  The file's DROP TABLE,
RENAME TABLE and CREATE/DROP INDEX statements run too (counted apart), so
that its sequence stays runnable.  After each statement the tables it
touched (on either side) are compared with information_schema: columns
(names in order), the PRIMARY index and the UNIQUE indexes (as a set of
column lists).  Left out: TEMPORARY tables, tables of other databases,
statements with mysqltest $variables, text that is not UTF-8.

A statement is
  matched    parsed, and every table it touched is the same on both sides
  unparsed   DDL_UNPARSED
  own miss   parsed, and a table equal before it differs after it
  cascade    parsed, and only tables that already differed still differ
Derived-key and nullability differences are counted on the side.

usage: differential.py extract TESTDIR     (the statements, as JSON lines)
       differential.py --tests DIR --dump PROG --socket SOCK [--socket SOCK2]
                       --log FILE [--min-rate PERCENT] [--sample N] [--only TEXT]
"""

import argparse
import bisect
import collections
import concurrent.futures
import json
import os
import queue
import re
import subprocess
import sys
import time

DB = "test"

# ---------------------------------------------------------------- extract ----

STMT_RE = re.compile(
    r"\s*(CREATE\s+(?:OR\s+REPLACE\s+)?(?P<temp>TEMPORARY\s+)?TABLE"
    r"|ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE)\s",
    re.I)
# The statements that keep a file's sequence runnable (a test drops t1 before
# it creates t1 again): run on both sides and compared, counted apart.
SUPPORT_RE = re.compile(
    r"\s*(DROP\s+TABLES?|RENAME\s+TABLES?|CREATE\s+(?:OR\s+REPLACE\s+)?"
    r"(?:ONLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX|DROP\s+INDEX)\s",
    re.I)
# the table a statement names: [IF [NOT] EXISTS] [db.]table
NAME_RE = re.compile(
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?P<db>`(?:[^`]|``)+`|[\w$]+)\s*\.\s*(?:`|\w)", re.I)
DELIM_RE = re.compile(r"\s*delimiter\s+(\S+)\s*$", re.I)
BLOCK_RE = re.compile(r"\s*(?:--\s*)?(perl|write_file|append_file)\b\s*(.*)$", re.I)
CONTROL_RE = re.compile(r"\s*(?:(?:if|while)\s*\(|}\s*else\b|[{}]\s*$)", re.I)


def skip_block(lines, i, command, arg):
    """Past a perl/write_file/append_file block that starts at line i."""
    words = arg.replace(";", " ").split()
    if command.lower() == "perl":
        end = words[0] if words else "EOF"
    else:
        end = words[1] if len(words) > 1 else "EOF"
    while i < len(lines) and lines[i].strip() != end:
        i += 1
    return i + 1


def split_semicolons(stmt):
    """The non-empty statements of stmt split at ';' outside quotes."""
    pieces, quote, seg, pos = [], None, 0, 0
    while pos < len(stmt):
        c = stmt[pos]
        if quote:
            if c == "\\" and quote != "`":
                pos += 1
            elif c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == ";":
            pieces.append(stmt[seg:pos])
            seg = pos + 1
        pos += 1
    pieces.append(stmt[seg:])
    return [p.strip() for p in pieces if p.strip()]


def split_statements(text):
    """(line, statement) of a mysqltest file, in order.  Commands are
    dropped, DELIMITER is followed, and as mysqltest does, only quotes are
    respected when looking for the delimiter."""
    lines = text.split("\n")
    delim = ";"
    out = []
    buf = []
    start = 0
    quote = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not buf and quote is None:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if s.startswith("--"):
                m = re.match(r"--\s*delimiter\s+(\S+)", s, re.I)
                if m:
                    delim = m.group(1)
                m = BLOCK_RE.match(s)
                if m:
                    i = skip_block(lines, i, m.group(1), m.group(2))
                continue
            if CONTROL_RE.match(s):
                continue
            start = i
        pos = seg = 0
        while pos < len(line):
            c = line[pos]
            if quote:
                if c == "\\" and quote != "`":
                    pos += 2
                    continue
                if c == quote:
                    quote = None
                pos += 1
                continue
            if c in "'\"`":
                quote = c
                pos += 1
                continue
            if not line.startswith(delim, pos):
                pos += 1
                continue
            buf.append(line[seg:pos])
            stmt = "\n".join(buf).strip()
            buf = []
            pos = seg = pos + len(delim)
            m = DELIM_RE.match(stmt)
            if m:
                delim = m.group(1)
                continue
            m = BLOCK_RE.match(stmt)
            if m:
                i = skip_block(lines, i, m.group(1), m.group(2))
                seg = len(line)
                break
            # a query of several statements (under another delimiter) is
            # run by the client as several
            out += [(start, piece) for piece in split_semicolons(stmt)]
            start = i
        rest = line[seg:]
        if buf or rest.strip():
            buf.append(rest)
    return out


QUALIFIED_RE = re.compile(r"(`(?:[^`]|``)+`|\b[A-Za-z_][\w$]*)\s*\.\s*[`\w]")


def classify(stmt):
    """("run", counted) for a statement to run (counted: a CREATE or ALTER
    TABLE, the rest keeps the sequence runnable), or ("skip", why)."""
    m = STMT_RE.match(stmt)
    support = SUPPORT_RE.match(stmt) if not m else None
    if not m and not support:
        return "skip", "other"
    why = None
    if "$" in stmt:
        why = "mysqltest variable"
    elif m and m.group("temp"):
        why = "temporary table"
    elif any("\udc80" <= c <= "\udcff" for c in stmt):
        why = "not UTF-8"
    elif m:
        n = NAME_RE.match(stmt, m.end())
        if n and n.group("db").strip("`").lower() != DB:
            why = "another database"
    elif any(q.group(1).strip("`").lower() != DB for q in QUALIFIED_RE.finditer(stmt)):
        why = "another database"
    if why is None:
        return "run", bool(m)
    return "skip", why if m else "other"


def extract(testdir):
    """{file: [(line, statement, counted)]} of the statements to run, and
    {file: Counter} of the CREATE and ALTER TABLE statements left out, by reason."""
    files = {}
    left_out = collections.defaultdict(collections.Counter)
    for root, dirs, names in os.walk(testdir):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".test"):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
            keep = []
            for line, stmt in split_statements(text):
                what, arg = classify(stmt)
                if what == "run":
                    keep.append((line, stmt, arg))
                elif arg != "other":
                    left_out[os.path.relpath(path, testdir)][arg] += 1
            if any(counted for _, _, counted in keep):
                files[os.path.relpath(path, testdir)] = keep
    return files, left_out


# ----------------------------------------------------------------- server ----

ERROR_RE = re.compile(r"^ERROR (\d+) \(\w+\) at line (\d+)(?: in file: '[^']*')?: (.*)$")
LOST = {"2002", "2006", "2013"}  # the server is gone

SNAPSHOT = (
    "SELECT 'C', TABLE_NAME, COLUMN_NAME, IS_NULLABLE, ORDINAL_POSITION"
    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s';\n"
    "SELECT 'I', TABLE_NAME, INDEX_NAME, COLUMN_NAME, SEQ_IN_INDEX, SUB_PART, INDEX_TYPE"
    " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '%s' AND NON_UNIQUE = 0;\n"
    % (DB, DB))


def unescape(field):
    """A field of mariadb -B output (tab, newline, NUL and backslash escaped)."""
    if "\\" not in field:
        return field
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "0": "\0"}.get(
        m.group(1), m.group(1)), field)


def server_script(stmts):
    """The script for the client, and {line: statement index} of the line
    each statement starts on (the client's error messages name it)."""
    head = "DROP DATABASE IF EXISTS %s;\nCREATE DATABASE %s;\nUSE %s;\nSELECT '#', 0;\n%s" % (
        DB, DB, DB, SNAPSHOT)
    out = [head]
    line = 1 + head.count("\n")
    starts = {}
    for k, (_, stmt, _) in enumerate(stmts):
        starts[line] = k
        text = "%s\n;\nSELECT '#', %d;\n%s" % (stmt, k + 1, SNAPSHOT)
        out.append(text)
        line += text.count("\n")
    out.append("DROP DATABASE %s;\n" % DB)
    return "".join(out), starts


def parse_snapshots(stdout):
    """{k: {table: {"cols": [(name, nullable)], "idx": {name: [(seq, col, sub, type)]}}}},
    k = 0 before the first statement, k = n after statement n."""
    snaps = {}
    cur = None
    for line in stdout.split("\n"):
        if not line:
            continue
        f = [unescape(x) for x in line.split("\t")]
        if f[0] == "#":
            cur = snaps.setdefault(int(f[1]), {})
        elif f[0] == "C" and cur is not None:
            t = cur.setdefault(f[1], {"cols": [], "idx": {}})
            t["cols"].append((int(f[4]), f[2], f[3] == "YES"))
        elif f[0] == "I" and cur is not None:
            t = cur.setdefault(f[1], {"cols": [], "idx": {}})
            t["idx"].setdefault(f[2], []).append((int(f[4]), f[3], f[5], f[6]))
    for snap in snaps.values():
        for t in snap.values():
            t["cols"] = [(n, null) for _, n, null in sorted(t["cols"])]
            for name in t["idx"]:
                t["idx"][name].sort()
    return snaps


def run_server(client, stmts, timeout):
    """(accepted: set of statement indexes, snapshots, server errors by index).
    Raises RuntimeError when the server went away."""
    script, starts = server_script(stmts)
    p = subprocess.run(client, input=script.encode("utf-8", "surrogateescape"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    stdout = p.stdout.decode("utf-8", "replace")
    errors = {}
    for line in p.stderr.decode("utf-8", "replace").split("\n"):
        m = ERROR_RE.match(line)
        if not m:
            continue
        if m.group(1) in LOST:
            raise ServerGone(line)
        k = starts.get(int(m.group(2)))
        if k is not None:
            errors[k] = "%s %s" % (m.group(1), m.group(3))
    snaps = parse_snapshots(stdout)
    if any(k not in snaps for k in range(len(stmts) + 1)):
        raise ClientTrouble("a snapshot is missing (client status %d): %s"
                           % (p.returncode, p.stderr.decode("utf-8", "replace")[-500:]))
    accepted = [k for k in range(len(stmts)) if k not in errors]
    return accepted, snaps, errors


# ----------------------------------------------------------------- parser ----

NAME = r"`((?:[^`]|``)*)`"
QNAME_RE = re.compile(NAME + r"\." + NAME)
PART_RE = re.compile(NAME + r"|\(expr\)")


def unquote(name):
    """A name or message of ddl_dump's output: `` is `, \\n a newline, \\\\ a backslash."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1),
                  name.replace("``", "`"))


def names(text):
    return [unquote(m.group(1)) if m.group(1) is not None else "(expr)"
            for m in PART_RE.finditer(text)]


def run_parser(dump, version, stmts, timeout):
    """[(kind, error, {(schema, table): state})] for each statement of stmts
    (texts), state None (absent), ("unknown", why) or ("table", shape)."""
    script = []
    offsets = []
    pos = 0
    for stmt in stmts:
        offsets.append(pos)
        text = stmt + "\n;\n"
        script.append(text)
        pos += len(text.encode("utf-8", "surrogateescape"))
    data = "".join(script).encode("utf-8", "surrogateescape")
    p = subprocess.run([dump, "-s", "-d", DB, "-V", str(version)], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise ParserCrash("ddl_dump exited %d: %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-300:]))
    results = [None] * len(stmts)
    cur = shape = None
    for line in p.stdout.decode("utf-8", "surrogateescape").split("\n"):
        word, _, rest = line.partition(" ")
        if word == "statement":
            n, off, rest = rest.split(" ", 2)
            kind, _, error = rest.partition(" ")
            error = unquote(error)
            k = bisect.bisect_right(offsets, int(off[1:])) - 1
            if results[k] is not None:  # ddl_script_next split one statement in two
                results[k] = ("SPLIT", "the script splitter cut the statement", {})
                cur = {}
                continue
            cur = {}
            results[k] = (kind, error, cur)
        elif word in ("table", "unknown", "absent"):
            m = QNAME_RE.match(rest)
            key = (unquote(m.group(1)), unquote(m.group(2)))
            if word == "table":
                shape = {"cols": [], "primary": None, "unique": [], "key": [],
                         "versioned": False, "invisible": set()}
                cur[key] = ("table", shape)
            elif word == "unknown":
                cur[key] = ("unknown", unquote(rest[m.end():].strip()))
            else:
                cur[key] = None
        elif word == "versioned":
            shape["versioned"] = True
        elif word == "column":
            n = names(rest)[0]
            flags = rest.rsplit("`", 1)[1].split()
            shape["cols"].append((n, "null" in flags))
            if "invisible" in flags:
                shape["invisible"].add(n.lower())
        elif word == "primary":
            shape["primary"] = names(rest)
        elif word == "unique":
            m = re.match(NAME + " ", rest)
            shape["unique"].append(names(rest[m.end():]))
        elif word == "key":
            shape["key"] = names(rest)
    for k in range(len(results)):
        if results[k] is None:
            results[k] = ("MISSING", "ddl_dump did not report the statement", {})
    return results


# ------------------------------------------------------------- comparison ----

def server_view(t):
    """The server's table in the parser's terms."""
    if t is None:
        return None
    cols = t["cols"]
    nullable = {n.lower(): null for n, null in cols}
    primary = None
    unique = []
    key = None
    for name, parts in t["idx"].items():
        pc = [c for _, c, _, _ in parts]
        if name == "PRIMARY":
            primary = pc
        else:
            unique.append(pc)
        whole = all(sub in ("NULL", "", None) for _, _, sub, _ in parts)
        if key is None and whole and \
                not any(nullable.get(c.lower(), True) for c in pc):
            key = pc
    if primary is not None:
        key = primary
    return {"cols": cols, "primary": primary, "unique": unique, "key": key or []}


def low(cols):
    return tuple(c.lower() for c in cols) if cols is not None else None


def show(cols):
    return "(%s)" % ",".join(cols) if cols is not None else "none"


def implicit_versioning(p, server):
    """The parser's table without what information_schema does not show: of
    WITH SYSTEM VERSIONING without declared row start and end columns, the
    invisible row_start and row_end columns (the binlog has them) and
    row_end at the end of the primary and unique keys; the hidden hash
    column of each long UNIQUE key."""
    shown = {n.lower() for n, _ in server["cols"]}
    # MariaDB's long UNIQUE keys: a hidden DB_ROW_HASH_n column each, in the
    # binlog's table maps but not in information_schema
    hidden = {n for n in p["invisible"] if n.startswith("db_row_hash_") and n not in shown}
    if p["versioned"]:
        hidden |= {n for n in ("row_start", "row_end") if n in p["invisible"] and n not in shown}
    if not hidden:
        return p
    keep = lambda cols: [c for c in cols if c.lower() not in hidden]  # noqa: E731
    q = dict(p)
    q["cols"] = [(n, null) for n, null in p["cols"] if n.lower() not in hidden]
    q["primary"] = keep(p["primary"]) if p["primary"] is not None else None
    q["unique"] = [keep(u) for u in p["unique"]]
    q["key"] = keep(p["key"])
    return q


def compare(server, parser):
    """(differences, extras): lists of words; both empty when equal."""
    if server is None and parser is None:
        return [], []
    if parser is None:
        return ["no table in the parser"], []
    if server is None:
        return ["a table the server does not have"], []
    if parser[0] == "unknown":
        return ["unknown: " + parser[1]], []
    p = implicit_versioning(parser[1], server)
    diffs, extras = [], []
    sc = [n for n, _ in server["cols"]]
    pc = [n for n, _ in p["cols"]]
    if sc != pc:
        diffs.append("columns: server %s, parser %s" % (show(sc), show(pc)))
    elif [x for _, x in server["cols"]] != [x for _, x in p["cols"]]:
        bad = [n for (n, a), (_, b) in zip(server["cols"], p["cols"]) if a != b]
        extras.append("nullability of %s" % ",".join(bad))
    if low(server["primary"]) != low(p["primary"]):
        diffs.append("primary: server %s, parser %s"
                     % (show(server["primary"]), show(p["primary"])))
    su = sorted(low(u) for u in server["unique"])
    pu = sorted(low(u) for u in p["unique"])
    if su != pu:
        diffs.append("unique: server %s, parser %s" % (
            " ".join(show(u) for u in su) or "none", " ".join(show(u) for u in pu) or "none"))
    if not diffs and low(server["key"]) != low(p["key"]):
        extras.append("key: server %s, parser %s" % (show(server["key"]), show(p["key"])))
    return diffs, extras


def category(diffs):
    """A short name for a list of differences, to group misses by."""
    d = diffs[0]
    if d.startswith("unknown: "):
        return "unknown: " + normalise(d[9:])
    if ":" in d:
        return "shape: " + "+".join(x.split(":")[0] for x in diffs)
    return d


def normalise(why):
    why = re.sub(r" \(offset \d+\)", "", why)
    why = re.sub(r"(column|index|columns|key) \S+", r"\1 X", why)
    why = re.sub(r"created LIKE \S+,", "created LIKE X,", why)
    why = re.sub(r"renamed from \S+,", "renamed from X,", why)
    why = re.sub(r"^[^:]*\.[^:]*: index X names", "index X names", why)
    return why


# ------------------------------------------------------------------- run ----

class ServerGone(RuntimeError):
    pass


class ParserCrash(RuntimeError):
    pass


class ClientTrouble(RuntimeError):
    """The client did not run the whole file (a comment it reads otherwise
    than the server, as /*/ ... /*/)."""


class Tally:
    def __init__(self):
        self.c = collections.Counter()
        self.groups = collections.defaultdict(list)  # (outcome, category) -> examples
        self.log = []

    def merge(self, other):
        self.c.update(other.c)
        for k, v in other.groups.items():
            self.groups[k] += v
        self.log += other.log

    def add(self, outcome, cat, where, stmt, detail):
        self.c[outcome] += 1
        self.groups[(outcome, cat)].append((where, stmt, detail))
        self.log.append("%s [%s] %s\n  %s\n%s" % (
            where, outcome, cat, stmt.replace("\n", "\n  "),
            "".join("  > %s\n" % d for d in detail)))


# an unknown table whose shape came from another unknown table
INHERITED_RE = re.compile(r"whose shape is not known")


def judge(k, kind, touched, state, old, snaps):
    """The outcome of accepted statement k: (outcome, differences, extras),
    outcome "matched", "miss" or "cascade"."""
    before, after = snaps[k], snaps[k + 1]
    targets = {t for (s, t) in touched if s == DB}
    targets |= {t for t in set(before) | set(after)
                if server_view(before.get(t)) != server_view(after.get(t))}
    diffs, extras, own, first = [], [], None, None
    for t in sorted(targets):
        d, e = compare(server_view(after.get(t)), state.get(t))
        extras += ["%s: %s" % (t, x) for x in e]
        if not d:
            continue
        diffs += ["%s: %s" % (t, x) for x in d]
        first = first or d
        if own is None and not compare(server_view(before.get(t)), old.get(t))[0]:
            own = d
    if not diffs:
        return "matched", [x.split(": ", 1)[1] for x in extras], extras
    # what a CREATE TABLE makes does not depend on what was there
    inherited = kind != "CREATE_TABLE" and any(
        compare(server_view(before.get(t)), old.get(t))[0] for t in targets)
    if own is None or inherited or INHERITED_RE.search(own[0]):
        return "cascade", first, diffs
    return "miss", own, diffs


def one_file(name, stmts, client, args, tally):
    try:
        accepted, snaps, errors = run_server(client, stmts, args.timeout)
    except RuntimeError as e:
        raise type(e)("%s: %s" % (name, e))
    for k, (_, _, counted) in enumerate(stmts):
        tally.c[("" if counted else "other ") + "found"] += 1
        if k in errors and counted:
            tally.c["rejected " + errors[k].split(" ")[0]] += 1
    if not accepted:
        return
    try:
        results = run_parser(args.dump, args.version, [stmts[k][1] for k in accepted],
                             args.parser_timeout)
    except (subprocess.TimeoutExpired, ParserCrash) as e:
        tally.add("parser hang", "ddl_dump hung or crashed", name,
                  "\n;\n".join(stmts[k][1] for k in accepted)[:2000], [str(e)])
        return
    state = {}  # the parser's tables of DB
    for k, (kind, error, touched) in zip(accepted, results):
        line, stmt, counted = stmts[k]
        where = "%s:%d" % (name, line)
        old = dict(state)
        for key, st in touched.items():
            if key[0] != DB:
                continue
            if st is None:
                state.pop(key[1], None)
            else:
                state[key[1]] = st
        pre = "" if counted else "other "
        tally.c[pre + "accepted"] += 1
        if kind in ("UNPARSED", "SPLIT", "MISSING"):
            tally.add(pre + "unparsed", re.sub(r" \(offset \d+\)", "", error), where, stmt, [])
            continue
        tally.c[pre + "parsed"] += 1
        outcome, first, detail = judge(k, kind, touched, state, old, snaps)
        if outcome != "matched":
            tally.add(pre + outcome, category(first), where, stmt, detail)
            continue
        tally.c[pre + "matched"] += 1
        if detail:
            tally.add(pre + "extra", category(first), where, stmt, detail)
    last = snaps[len(stmts)]
    for t in set(last) | set(state):
        tally.c["tables"] += 1
        if not compare(server_view(last.get(t)), state.get(t))[0]:
            tally.c["tables equal"] += 1


def one_file_again(name, stmts, n, client, args):
    """one_file(); when the server crashes, it is restarted (--restart) and the
    file runs again; a second crash leaves the file out, with the server's log."""
    crashes = []
    for attempt in (1, 2):
        tally = Tally()
        try:
            one_file(name, stmts, client, args, tally)
            for c in crashes:
                tally.add("server crash", "the server crashed, and not again", name, *c)
            return tally
        except ClientTrouble as e:
            tally = Tally()
            tally.c["client trouble"] += sum(1 for _, _, counted in stmts if counted)
            tally.add("client trouble", "the client did not run the whole file", name,
                      str(e)[:300], [])
            return tally
        except ServerGone as e:
            gone = str(e)
        if not args.restart:
            raise RuntimeError(gone)
        p = subprocess.run(["bash", args.restart, "--restart", str(n)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        log = p.stdout.decode("utf-8", "replace").split("\n")
        if p.returncode != 0:
            raise RuntimeError("%s; the restart failed: %s" % (gone, "\n".join(log[-20:])))
        sys.stderr.write("differential: %s; server %d restarted\n" % (gone, n))
        crashes.append((gone, [x for x in log if "signal" in x or "Query (" in x][:3]))
    tally = Tally()
    tally.c["server crashed"] += sum(1 for _, _, counted in stmts if counted)
    tally.add("server crash", "the server crashed twice on the file", name, gone,
              [x for x in log if x.strip()][-12:])
    return tally


def report(tally, files, left_out, seconds, out):
    """The numbers; returns the match rate (percent of accepted statements)."""
    c = tally.c
    w = out.write
    pct = lambda n, d: 100.0 * n / d if d else 0.0  # noqa: E731
    w("CREATE TABLE and ALTER TABLE statements found: %d in %d files\n" % (c["found"], files))
    w("left out: %s\n" % ", ".join("%d %s" % (n, k) for k, n in sorted(left_out.items())))
    rejected = [(n, k[9:]) for k, n in c.most_common() if k.startswith("rejected ")]
    w("accepted by the server: %d (rejected %d, the most by error %s)\n" % (
        c["accepted"], sum(n for n, _ in rejected),
        ", ".join("%s: %d" % (k, n) for n, k in rejected[:6])))
    w("parsed by ringwatch: %d (%.2f%%)\n" % (c["parsed"], pct(c["parsed"], c["accepted"])))
    w("matched information_schema: %d (%.2f%%)\n" % (
        c["matched"], pct(c["matched"], c["accepted"])))
    w("misses: %d unparsed, %d own misses, %d cascades (a table already wrong)\n" % (
        c["unparsed"], c["miss"], c["cascade"]))
    select = sum(len(v) for (o, cat), v in tally.groups.items()
                 if o == "miss" and "CREATE TABLE ... SELECT" in cat)
    w("of the own misses, CREATE TABLE ... SELECT (unknown by design; in ROW format the "
      "binlog has it as a plain CREATE TABLE): %d; matched without them: %.2f%%\n" % (
          select, pct(c["matched"], c["accepted"] - select)))
    w("matched, but the derived key or a column's nullability differs: %d\n" % c["extra"])
    w("other DDL run to keep the sequences (DROP/RENAME TABLE, CREATE/DROP INDEX): found %d, "
      "accepted %d, parsed %d, matched %d\n" % (c["other found"], c["other accepted"],
                                               c["other parsed"], c["other matched"]))
    if c["client trouble"]:
        w("left out because the client did not run their whole file: %d\n" % c["client trouble"])
    if c["server crashed"]:
        w("left out because the server crashed on their file: %d\n" % c["server crashed"])
    if c["parser hang"]:
        w("files on which ddl_dump hung or crashed: %d\n" % c["parser hang"])
    w("tables at the end of their file: %d, equal %d\n" % (c["tables"], c["tables equal"]))
    w("seconds: %.1f\n" % seconds)
    return pct(c["matched"], c["accepted"])


def report_groups(tally, out):
    for outcome in ("server crash", "client trouble", "parser hang", "unparsed", "miss",
                    "cascade", "extra", "other unparsed", "other miss", "other cascade",
                    "other extra"):
        groups = sorted(((len(v), cat, v) for (o, cat), v in tally.groups.items()
                         if o == outcome), key=lambda x: (-x[0], x[1]))
        if not groups:
            continue
        out.write("\n== %s, by category ==\n" % outcome)
        for n, cat, examples in groups:
            out.write("%6d  %s\n" % (n, cat))
            for where, stmt, detail in examples[:3]:
                s = " ".join(stmt.split())
                out.write("        %s: %s\n" % (where, s[:240] + ("..." if len(s) > 240 else "")))
                for d in detail[:2]:
                    out.write("          > %s\n" % d[:240])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", required=True, help="mysql-test folder")
    ap.add_argument("--dump", required=True, help="tests/ddl/ddl_dump")
    ap.add_argument("--version", type=int, default=0, help="the server's, as 101119")
    ap.add_argument("--client", default="mariadb", help="the mariadb client")
    ap.add_argument("--socket", action="append", required=True,
                    help="a server's socket (one worker each; every server the same)")
    ap.add_argument("--restart", help="PROG --restart I brings server I back")
    ap.add_argument("--log", required=True)
    ap.add_argument("--min-rate", type=float, default=0.0, help="percent matched")
    ap.add_argument("--sample", type=int, default=1, help="every Nth file")
    ap.add_argument("--only", default="", help="files whose path contains this")
    ap.add_argument("--timeout", type=float, default=300, help="seconds for one file")
    ap.add_argument("--parser-timeout", type=float, default=30,
                    help="seconds for ddl_dump on one file")
    args = ap.parse_args()
    t0 = time.time()
    files, left_out = extract(args.tests)
    todo = [f for f in sorted(set(files) | set(left_out)) if args.only in f][::args.sample]
    left = collections.Counter()
    for f in todo:
        left.update(left_out.get(f, {}))
    todo = [f for f in todo if f in files]
    clients = queue.Queue()
    for n, sock in enumerate(args.socket, 1):
        clients.put((n, [args.client, "--no-defaults", "--protocol=socket", "-S", sock,
                         "-uroot", "--force", "-B", "-N", "--default-character-set=utf8mb4"]))

    def work(name):
        n, client = clients.get()
        try:
            return one_file_again(name, files[name], n, client, args)
        finally:
            clients.put((n, client))

    total = Tally()
    with concurrent.futures.ThreadPoolExecutor(len(args.socket)) as pool:
        try:
            for tally in pool.map(work, todo):  # in file order: a stable log
                total.merge(tally)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            sys.stderr.write("differential: %s\n" % e)
            pool.shutdown(cancel_futures=True)
            return 99
    with open(args.log, "w") as out:
        rate = report(total, len(todo), left, time.time() - t0, out)
        report_groups(total, out)
        out.write("\n== every miss ==\n")
        out.write("\n".join(total.log))
    with open(args.log) as f:
        sys.stdout.write(f.read().split("\n\n")[0] + "\n")
    if total.c["parser hang"]:
        sys.stdout.write("FAIL: ddl_dump hung or crashed on %d files\n" % total.c["parser hang"])
        return 1
    if rate < args.min_rate:
        sys.stdout.write("FAIL: match rate %.2f%% is below %.2f%%\n" % (rate, args.min_rate))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "extract":
        files, left = extract(sys.argv[2])
        for f, stmts in files.items():
            for line, s, counted in stmts:
                print(json.dumps([f, line, s, counted]))
        sys.exit(0)
    sys.exit(main())
