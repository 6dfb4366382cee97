#!/usr/bin/env python3
"""Drive headless Chromium over the DevTools protocol (--remote-debugging-pipe),
one page that stays loaded while the test changes the ring around it.

    cdp.py CHROMIUM PROFILE_DIR LOG

reads commands on stdin, one a line, and answers each with one line:
    open URL              navigate the page (the answer once it has loaded)
    size W H MOBILE       the viewport: W x H CSS pixels, MOBILE 1 for a phone
    eval EXPR             the expression's value, as JSON
    wait SECONDS EXPR     "ok" once EXPR is truthy (polled every 100 ms),
                          else "timeout" and its last value
    dom FILE              the rendered DOM (outerHTML) into FILE
    shot FILE             a PNG screenshot of the whole page into FILE
    prompt ANSWER|-       how the next prompt()/alert()/confirm() is answered
                          (- dismisses it)
    dialogs               the dialogs shown so far, as JSON [{type, message}]
    quit
Errors answer "error: ...".  Python's standard library only.
"""
import base64
import fcntl
import json
import os
import subprocess
import sys
import threading
import time


def onto_3_and_4(commands, answers):
    """In the child: Chromium reads commands on fd 3 and writes answers on fd 4."""
    a = fcntl.fcntl(commands, fcntl.F_DUPFD, 10)
    b = fcntl.fcntl(answers, fcntl.F_DUPFD, 10)
    os.dup2(a, 3)
    os.dup2(b, 4)


class Browser:
    def __init__(self, chromium, profile, log):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-dev-shm-usage",
                "--no-first-run", "--user-data-dir=" + profile,
                "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            pass_fds=(3, 4), preexec_fn=lambda: onto_3_and_4(to_chrome_r, from_chrome_w))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.answers = {}
        self.events = []
        self.dialogs = []
        self.prompt_answer = None
        self.next_id = 0
        self.session = None
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buf = b""
        while True:
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                with self.cond:
                    self.answers[-1] = {"error": {"message": "chromium went away"}}
                    self.cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if msg.get("method") == "Page.javascriptDialogOpening":
                    p = msg["params"]
                    self.dialogs.append({"type": p.get("type"), "message": p.get("message")})
                    answer = self.prompt_answer
                    params = {"accept": answer is not None}
                    if answer is not None and p.get("type") == "prompt":
                        params["promptText"] = answer
                    self.send("Page.handleJavaScriptDialog", params, wait=False)
                    continue
                with self.cond:
                    if "id" in msg:
                        self.answers[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self.cond.notify_all()

    def send(self, method, params=None, wait=True, timeout=30, session=True):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
            msg = {"id": mid, "method": method, "params": params or {}}
            if session and self.session:
                msg["sessionId"] = self.session
            os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        if not wait:
            return None
        deadline = time.monotonic() + timeout
        with self.cond:
            while mid not in self.answers and -1 not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(method + ": no answer in %d s" % timeout)
                self.cond.wait(left)
            ans = self.answers.pop(mid, None) or self.answers[-1]
        if "error" in ans:
            raise RuntimeError(method + ": " + ans["error"].get("message", "?"))
        return ans.get("result", {})

    def start(self):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        att = self.send("Target.attachToTarget",
                        {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = att["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def wait_event(self, method, since, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events[since:]:
                    if e.get("method") == method and e.get("sessionId") == self.session:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(method + ": not seen in %d s" % timeout)
                self.cond.wait(left)

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError("exception: " + d.get("exception", {}).get("description", d.get("text", "?")))
        return r["result"].get("value")


def main():
    chromium, profile, log_path = sys.argv[1:4]
    log = open(log_path, "ab")
    b = Browser(chromium, profile, log)
    sys.stdout.reconfigure(encoding="utf-8")
    sys.stdin.reconfigure(encoding="utf-8")
    out = sys.stdout
    b.start()
    for line in sys.stdin:
        line = line.rstrip("\n")
        cmd, _, arg = line.partition(" ")
        try:
            if cmd == "open":
                with b.cond:
                    since = len(b.events)
                b.send("Page.navigate", {"url": arg})
                b.wait_event("Page.loadEventFired", since, 30)
                answer = "ok"
            elif cmd == "size":
                w, h, mobile = arg.split()
                b.send("Emulation.setDeviceMetricsOverride",
                       {"width": int(w), "height": int(h), "deviceScaleFactor": 1,
                        "mobile": mobile == "1"})
                answer = "ok"
            elif cmd == "eval":
                answer = json.dumps(b.eval(arg), ensure_ascii=False)
            elif cmd == "wait":
                secs, _, expr = arg.partition(" ")
                deadline = time.monotonic() + float(secs)
                while True:
                    v = b.eval(expr)
                    if v:
                        answer = "ok"
                        break
                    if time.monotonic() >= deadline:
                        answer = "timeout " + json.dumps(v, ensure_ascii=False)
                        break
                    time.sleep(0.1)
            elif cmd == "dom":
                with open(arg, "w", encoding="utf-8") as f:
                    f.write(b.eval("document.documentElement.outerHTML"))
                answer = "ok"
            elif cmd == "shot":
                r = b.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
                with open(arg, "wb") as f:
                    f.write(base64.b64decode(r["data"]))
                answer = "ok"
            elif cmd == "prompt":
                b.prompt_answer = None if arg == "-" else arg
                answer = "ok"
            elif cmd == "dialogs":
                answer = json.dumps(b.dialogs, ensure_ascii=False)
            elif cmd == "quit":
                break
            else:
                answer = "error: unknown command " + cmd
        except Exception as e:  # the test reads the error and fails
            answer = "error: " + str(e).replace("\n", " ")
        out.write(answer + "\n")
        out.flush()
    try:
        b.send("Browser.close", session=False, timeout=5)
    except Exception:
        pass
    try:
        b.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        b.proc.kill()
        b.proc.wait()


if __name__ == "__main__":
    main()
