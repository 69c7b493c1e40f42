#!/usr/bin/env python3
"""Hardening probes of issue 13 against a release `tally dev`: does the node
keep serving and keep its memory bounded while it is mistreated?

    .venv/bin/python scripts/probe.py                 # the issue's sizes
    .venv/bin/python scripts/probe.py --quick         # smaller, ~2 minutes
    .venv/bin/python scripts/probe.py --probes flood,ws --json

Each probe gets a fresh `target/release/tally dev --datadir <tmp> --port <p>
--no-explorer` (built with `cargo build --release -p tally-cli` when
missing), so its peak memory is its own. While a probe runs, the node's
VmRSS is read from /proc every 100 ms (peak reported, and VmHWM at the end)
and a separate process asks eth_blockNumber every 10 ms on its own
connection (p50/p99/max). The probes:

- flood: 1,000,000 invalid transactions over 4 persistent HTTP connections
  (one process each, so the GIL does not cap the rate). Most are
  well-formed EIP-1559 transactions whose random signature recovers to an
  unfunded sender ("insufficient funds": the pool pays for decoding and
  ecrecover); the rest are bad signatures (high s, r = 0) and garbage
  bytes. They are made by splicing random r/s into an encoded template, no
  signing. Meanwhile valid transfers are sent from a dev account every
  100 ms (and `tally bench --kind transfer` runs alongside): they must keep
  being mined.
- feehistory: 4 connections each sending eth_feeHistory with 100,000 reward
  percentiles (a 779 KB request) and a huge block count, several rounds;
  each must be refused cheaply.
- gapped: nine funded senders each send 1,000 nonce-gapped ~126 KB
  transactions (never minable); the pool is bounded at 256 MiB.
- ws: 250 WebSocket connections (half subscribed to newHeads, half idle)
  from three loopback addresses, held open while HTTP requests on fresh
  connections go on; a few more past the per-IP cap must get 429.
- oversize: bodies just over 10 MiB, a batch of 1,001 calls, and four
  concurrent batches of 1,000 calls that fill ~9.5 MB bodies.
- p2p: skipped, `tally dev` has no p2p port.

Needs the venv that scripts/test.sh makes (.venv, tests/py/requirements.txt)
for eth_account and rlp; run it with .venv/bin/python.
"""

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import rlp
from eth_account import Account

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "tally"
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
# secp256k1 field prime and group order.
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MIB = 1024 * 1024

Account.enable_unaudited_hdwallet_features()


def dev_key(i):
    return Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")


# --------------------------------------------------------------------------
# HTTP on one persistent socket. http.client costs more per request than the
# node spends refusing a transaction, so the flood speaks HTTP/1.1 itself.


class Conn:
    def __init__(self, port, host="127.0.0.1", timeout=60):
        self.port, self.host, self.timeout = port, host, timeout
        self.sock = None
        self.buf = b""

    def connect(self):
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("connection closed by the node")
        self.buf += chunk

    def post(self, body, close=False):
        """Sends one POST; returns (status, body bytes). Reconnects once."""
        for attempt in (0, 1):
            if self.sock is None:
                self.connect()
            head = (
                f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + ("Connection: close\r\n" if close else "")
                + "\r\n"
            ).encode()
            try:
                self.sock.sendall(head + body)
            except (ConnectionError, OSError):
                # A node refusing an oversized body answers and closes before
                # reading it all: its answer may still be in our buffer.
                try:
                    self.sock.settimeout(2)
                    return self._response()
                except (ConnectionError, OSError):
                    self.close()
                    if attempt:
                        raise
                    continue
            try:
                return self._response()
            except (ConnectionError, OSError):
                self.close()
                if attempt:
                    raise

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2 :]
                if size == 0:
                    break
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


def call_body(method, params, id_=1):
    return json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}).encode()


def rpc(conn, method, params=()):
    status, body = conn.post(call_body(method, list(params)))
    reply = json.loads(body)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def pct(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100 * len(s)))]


def ms_summary(lat_s):
    ms = [x * 1000 for x in lat_s]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 2) if ms else None,
        "p99_ms": round(pct(ms, 99), 2) if ms else None,
        "max_ms": round(max(ms), 2) if ms else None,
    }


# --------------------------------------------------------------------------
# The node and what watches it.


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_binary():
    if BIN.exists():
        return
    print("probe: building target/release/tally (cargo build --release -p tally-cli)", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-p", "tally-cli"], cwd=ROOT, check=True)


class Node:
    def __init__(self, workdir):
        self.datadir = Path(tempfile.mkdtemp(prefix="probe-dev-", dir=workdir))
        self.port = free_port()
        self.log = open(self.datadir.parent / (self.datadir.name + ".log"), "wb")
        self.proc = subprocess.Popen(
            [str(BIN), "dev", "--datadir", str(self.datadir / "chain"), "--port", str(self.port), "--no-explorer"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tally dev exited with {self.proc.returncode}; see {self.log.name}")
            try:
                rpc(Conn(self.port, timeout=2), "eth_blockNumber")
                break
            except (OSError, ConnectionError, ValueError):
                if time.time() > deadline:
                    raise RuntimeError("tally dev did not answer within 60 s")
                time.sleep(0.2)

    @property
    def pid(self):
        return self.proc.pid

    def status(self, field):
        try:
            for line in open(f"/proc/{self.pid}/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class RssSampler(threading.Thread):
    """VmRSS of the node every 100 ms."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node, self.stop_ev = node, threading.Event()
        self.peak, self.samples = 0, []

    def run(self):
        t0 = time.time()
        while not self.stop_ev.is_set():
            rss = self.node.status("VmRSS")
            if rss is not None:
                self.peak = max(self.peak, rss)
                self.samples.append((round(time.time() - t0, 2), rss))
            time.sleep(0.1)

    def finish(self):
        self.stop_ev.set()
        self.join()
        return {
            "start_rss_mb": round(self.samples[0][1] / MIB, 1) if self.samples else None,
            "peak_rss_mb": round(self.peak / MIB, 1),
            "end_rss_mb": round(self.samples[-1][1] / MIB, 1) if self.samples else None,
            "vmhwm_mb": round((self.node.status("VmHWM") or 0) / MIB, 1),
        }


def latency_worker(port, interval, stop_ev, out_q):
    """eth_blockNumber every `interval` s on its own connection (own process,
    so the flood's processes do not delay its clock)."""
    conn = Conn(port, timeout=30)
    body = call_body("eth_blockNumber", [])
    lats, errors, nxt = [], 0, time.perf_counter()
    while not stop_ev.is_set():
        t = time.perf_counter()
        try:
            status, reply = conn.post(body)
            if status != 200 or b'"result"' not in reply:
                errors += 1
        except Exception:
            errors += 1
        lats.append(time.perf_counter() - t)
        nxt += interval
        time.sleep(max(0.0, nxt - time.perf_counter()))
        if nxt < time.perf_counter() - 1:
            nxt = time.perf_counter()
    out_q.put({"lat": lats, "errors": errors})


class Watch:
    """RSS sampler plus the eth_blockNumber latency process."""

    def __init__(self, node):
        self.rss = RssSampler(node)
        self.stop_ev = mp.Event()
        self.q = mp.Queue()
        self.proc = mp.Process(target=latency_worker, args=(node.port, 0.01, self.stop_ev, self.q))

    def __enter__(self):
        self.rss.start()
        self.proc.start()
        return self

    def finish(self):
        self.stop_ev.set()
        lat = self.q.get()
        self.proc.join()
        out = self.rss.finish()
        out["block_number"] = ms_summary(lat["lat"])
        out["block_number"]["errors"] = lat["errors"]
        return out

    def __exit__(self, *exc):
        if self.proc.is_alive():
            self.stop_ev.set()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.terminate()


# --------------------------------------------------------------------------
# Valid transfers alongside a probe.


def trickle_worker(port, key_index, interval, stop_ev, out_q):
    """A valid transfer every `interval` s from one dev account; records how
    long each took to get a receipt."""
    acct = dev_key(key_index)
    conn = Conn(port, timeout=30)
    nonce = int(rpc(conn, "eth_getTransactionCount", [acct.address, "pending"]), 16)
    price = int(rpc(conn, "eth_gasPrice"), 16)
    pending, inclusion, sent, send_err = {}, [], 0, {}
    nxt = time.time()
    stopping_at = None
    while True:
        now = time.time()
        if stop_ev.is_set() and stopping_at is None:
            stopping_at = now
        if stopping_at is None and now >= nxt:
            tx = acct.sign_transaction(
                dict(type=2, chainId=CHAIN_ID, nonce=nonce, to="0x" + "11" * 20, value=1,
                     gas=21000, maxFeePerGas=price * 4, maxPriorityFeePerGas=price)
            )
            try:
                h = rpc(conn, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])
                pending[h] = time.time()
                nonce += 1
                sent += 1
            except Exception as e:
                key = str(e)[:80]
                send_err[key] = send_err.get(key, 0) + 1
            nxt += interval
        for h in list(pending)[:8]:
            try:
                if rpc(conn, "eth_getTransactionReceipt", [h]) is not None:
                    inclusion.append(time.time() - pending.pop(h))
            except Exception:
                pass
        if stopping_at is not None and (not pending or time.time() - stopping_at > 30):
            break
        time.sleep(0.02)
    out_q.put({"sent": sent, "mined": len(inclusion), "unmined": len(pending),
               "inclusion": ms_summary(inclusion), "send_errors": send_err})


class Trickle:
    def __init__(self, node, key_index=9, interval=0.1):
        self.stop_ev, self.q = mp.Event(), mp.Queue()
        self.proc = mp.Process(target=trickle_worker, args=(node.port, key_index, interval, self.stop_ev, self.q))
        self.proc.start()

    def finish(self):
        self.stop_ev.set()
        out = self.q.get()
        self.proc.join()
        return out


# --------------------------------------------------------------------------
# Probe: flood of invalid transactions.


def random_r(rng):
    """A random r that is the x of a curve point, so recovery succeeds."""
    while True:
        r = rng.getrandbits(256)
        if r >> 248 == 0 or r >= N:
            continue
        if pow((r**3 + 7) % P, (P - 1) // 2, P) == 1:
            return r


def flood_worker(port, count, batch, seed, mix, start_ev, out_q):
    rng = random.Random(seed)
    # One template per y-parity: everything up to the signature's r and s,
    # which are 32-byte strings (0xa0 + 32 bytes) spliced on per transaction.
    prefixes = []
    for parity in (0, 1):
        fields = [CHAIN_ID, 0, 10**9, 100 * 10**9, 21000, bytes.fromhex("22" * 20), 1, b"", [],
                  parity, b"\x01" * 32, b"\x01" * 32]
        enc = rlp.encode(fields)
        prefixes.append(b"\x02" + enc[: -66])
    r_pool = [random_r(rng).to_bytes(32, "big") for _ in range(1024)]
    half_n = N // 2

    def one():
        u = rng.random()
        if u < mix["recover"]:
            s = rng.randrange(1 << 248, half_n).to_bytes(32, "big")
            raw = prefixes[rng.getrandbits(1)] + b"\xa0" + rng.choice(r_pool) + b"\xa0" + s
        elif u < mix["recover"] + mix["badsig"]:
            if rng.getrandbits(1):  # high s (EIP-2)
                s = rng.randrange(half_n + 1, N).to_bytes(32, "big")
                raw = prefixes[0] + b"\xa0" + rng.choice(r_pool) + b"\xa0" + s
            else:  # r = 0 (the placeholder bytes keep the length)
                raw = prefixes[1] + b"\xa0" + b"\x00" * 32 + b"\xa0" + os.urandom(32)
        else:
            raw = os.urandom(rng.randrange(1, 200))
            if rng.getrandbits(1):
                raw = b"\x02" + raw  # typed, then garbage
        return '"0x' + raw.hex() + '"'

    conn = Conn(port, timeout=120)
    conn.connect()
    outcomes, sent, failures = {}, 0, 0
    start_ev.wait()
    t0 = time.perf_counter()
    while sent < count:
        n = min(batch, count - sent)
        if batch == 1:
            body = ('{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[' + one() + "]}").encode()
        else:
            body = ("[" + ",".join(
                '{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":[%s]}' % (i, one())
                for i in range(n)) + "]").encode()
        try:
            status, reply = conn.post(body)
        except Exception as e:
            failures += 1
            key = "transport: " + type(e).__name__
            outcomes[key] = outcomes.get(key, 0) + n
            sent += n
            continue
        if status != 200:
            key = f"HTTP {status}"
            outcomes[key] = outcomes.get(key, 0) + n
        else:
            replies = json.loads(reply)
            for rep in replies if isinstance(replies, list) else [replies]:
                if "error" in rep:
                    msg = rep["error"].get("message", "")
                    key = msg.split(":")[0][:60]
                else:
                    key = "ACCEPTED"
                outcomes[key] = outcomes.get(key, 0) + 1
        sent += n
    out_q.put({"sent": sent, "secs": time.perf_counter() - t0, "outcomes": outcomes})


def run_bench(node, txs, timeout):
    if txs <= 0:
        return None
    cmd = [str(BIN), "bench", "--rpc", f"http://127.0.0.1:{node.port}", "--kind", "transfer",
           "--txs", str(txs), "--json", "--timeout", str(timeout)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def bench_result(proc):
    if proc is None:
        return None
    out, err = proc.communicate()
    if proc.returncode != 0:
        return {"error": (err or out).strip()[-400:]}
    try:
        data = json.loads(out)
    except ValueError:
        return {"error": out[-400:]}
    return data


def mined_between(conn, first, last):
    total = 0
    for n in range(first + 1, last + 1):
        total += int(rpc(conn, "eth_getBlockTransactionCountByNumber", [hex(n)]), 16)
    return total


def probe_flood(node, args):
    conn = Conn(node.port)
    procs, q, start_ev = [], mp.Queue(), mp.Event()
    per = [args.txs // args.conns + (1 if i < args.txs % args.conns else 0) for i in range(args.conns)]
    mix = {"recover": 0.9, "badsig": 0.05}
    for i in range(args.conns):
        p = mp.Process(target=flood_worker, args=(node.port, per[i], args.flood_batch, 1000 + i, mix, start_ev, q))
        p.start()
        procs.append(p)
    time.sleep(1.5)  # templates and r values made before the clock starts
    with Watch(node) as w:
        trickle = Trickle(node)
        first = int(rpc(conn, "eth_blockNumber"), 16)
        bench = run_bench(node, args.bench_txs, 600)
        t0 = time.time()
        start_ev.set()
        results = [q.get() for _ in procs]
        elapsed = time.time() - t0
        last = int(rpc(conn, "eth_blockNumber"), 16)
        for p in procs:
            p.join()
        watch = w.finish()
        tr = trickle.finish()
    bench_out = bench_result(bench)
    mined = mined_between(conn, first, last)
    outcomes = {}
    for r in results:
        for k, v in r["outcomes"].items():
            outcomes[k] = outcomes.get(k, 0) + v
    sent = sum(r["sent"] for r in results)
    out = dict(watch)
    out.update({
        "invalid_sent": sent,
        "connections": args.conns,
        "batch": args.flood_batch,
        "secs": round(elapsed, 1),
        "tx_per_s": round(sent / elapsed),
        "outcomes": dict(sorted(outcomes.items(), key=lambda kv: -kv[1])),
        "blocks_during": last - first,
        "txs_mined_during": mined,
        "trickle": tr,
    })
    if bench_out is not None:
        out["bench"] = {k: bench_out[k] for k in bench_out if not isinstance(bench_out[k], (list, dict))} \
            if "error" not in bench_out else bench_out
    out["ok"] = bool(
        watch["block_number"]["p99_ms"] is not None and watch["block_number"]["p99_ms"] < 100
        and tr["mined"] > 0 and tr["unmined"] == 0 and watch["peak_rss_mb"] < 1024
        and outcomes.get("ACCEPTED", 0) == 0
    )
    return out


# --------------------------------------------------------------------------
# Probe: eth_feeHistory with a huge percentile list.


def feehistory_worker(port, rounds, body, out_q):
    conn = Conn(port, timeout=120)
    lats, msgs = [], {}
    for _ in range(rounds):
        t = time.perf_counter()
        try:
            status, reply = conn.post(body)
            try:
                rep = json.loads(reply)
                key = rep["error"]["message"][:90] if "error" in rep else "ANSWERED"
            except ValueError:
                key = f"HTTP {status}"
        except Exception as e:
            key = "transport: " + type(e).__name__
        lats.append(time.perf_counter() - t)
        msgs[key] = msgs.get(key, 0) + 1
    out_q.put({"lat": lats, "msgs": msgs})


def probe_feehistory(node, args):
    pcts = [round(i * 100 / 100_000, 3) for i in range(100_000)]
    bodies = [
        call_body("eth_feeHistory", ["0x400", "latest", pcts]),
        call_body("eth_feeHistory", ["0xffffffff", "latest", pcts]),
    ]
    q = mp.Queue()
    with Watch(node) as w:
        procs = [mp.Process(target=feehistory_worker, args=(node.port, args.fee_rounds, bodies[i % 2], q))
                 for i in range(4)]
        for p in procs:
            p.start()
        res = [q.get() for _ in procs]
        for p in procs:
            p.join()
        time.sleep(1)
        watch = w.finish()
    lats = [x for r in res for x in r["lat"]]
    msgs = {}
    for r in res:
        for k, v in r["msgs"].items():
            msgs[k] = msgs.get(k, 0) + v
    out = dict(watch)
    out.update({"request_kb": round(len(bodies[0]) / 1024), "requests": len(lats),
                "concurrent": 4, "answer": ms_summary(lats), "outcomes": msgs})
    out["ok"] = watch["peak_rss_mb"] < 1024 and "ANSWERED" not in msgs and out["answer"]["p99_ms"] < 1000
    return out


# --------------------------------------------------------------------------
# Probe: nonce-gapped 126 KB transactions from nine funded senders.


def gapped_worker(port, key_indexes, per_sender, size, price, out_q):
    conn = Conn(port, timeout=120)
    data = os.urandom(size)
    # EIP-7623's calldata floor (40 gas a nonzero byte) sets the gas needed.
    gas = 21000 + 40 * size + 10_000
    msgs, raw_len, sent_bytes = {}, 0, 0
    for ki in key_indexes:
        acct = dev_key(ki)
        base = int(rpc(conn, "eth_getTransactionCount", [acct.address, "latest"]), 16)
        for j in range(per_sender):
            # base is never sent: every transaction waits on a gap.
            tx = acct.sign_transaction(dict(type=2, chainId=CHAIN_ID, nonce=base + 1 + j, to=acct.address,
                                            value=0, gas=gas, maxFeePerGas=price * 4,
                                            maxPriorityFeePerGas=price, data=data))
            raw = tx.raw_transaction
            raw_len = len(raw)
            body = call_body("eth_sendRawTransaction", ["0x" + raw.hex()])
            sent_bytes += len(raw)
            try:
                status, reply = conn.post(body)
                rep = json.loads(reply)
                key = rep["error"]["message"].split(":")[0][:70] if "error" in rep else "ACCEPTED"
            except Exception as e:
                key = "transport: " + type(e).__name__
            msgs[key] = msgs.get(key, 0) + 1
    out_q.put({"msgs": msgs, "tx_bytes": raw_len, "sent_bytes": sent_bytes})


def pool_metrics(port):
    """The pool gauges of GET /metrics."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("tally_txpool_pending", "tally_txpool_queued", "tally_txpool_bytes",
                    "tally_pool_admitted_total", "tally_pool_rejected_total"):
            out[name.removeprefix("tally_")] = float(value)
    if "txpool_bytes" in out:
        out["txpool_mb"] = round(out.pop("txpool_bytes") / MIB, 1)
    return out


def probe_gapped(node, args):
    conn = Conn(node.port)
    price = int(rpc(conn, "eth_gasPrice"), 16)
    keys = list(range(1, 10))
    groups = [keys[i:: args.sign_procs] for i in range(args.sign_procs)]
    q = mp.Queue()
    with Watch(node) as w:
        t0 = time.time()
        procs = [mp.Process(target=gapped_worker, args=(node.port, g, args.gapped_per_sender, args.gapped_size, price, q))
                 for g in groups]
        for p in procs:
            p.start()
        res = [q.get() for _ in procs]
        for p in procs:
            p.join()
        secs = time.time() - t0
        time.sleep(2)
        pool = pool_metrics(node.port)
        watch = w.finish()
    msgs = {}
    for r in res:
        for k, v in r["msgs"].items():
            msgs[k] = msgs.get(k, 0) + v
    out = dict(watch)
    out.update({"senders": len(keys), "per_sender": args.gapped_per_sender, "tx_bytes": res[0]["tx_bytes"],
                "sent_mb": round(sum(r["sent_bytes"] for r in res) / MIB), "secs": round(secs, 1),
                "outcomes": msgs, "pool": pool})
    out["ok"] = watch["peak_rss_mb"] < 1024
    return out


# --------------------------------------------------------------------------
# Probe: many WebSocket connections while HTTP goes on.


def http_fresh_worker(port, duration, out_q):
    """New connection per request (what a crowd of light clients does)."""
    codes, lats = {}, []
    body = call_body("eth_chainId", [])
    end = time.time() + duration
    while time.time() < end:
        c = Conn(port, timeout=30)
        t = time.perf_counter()
        try:
            status, _ = c.post(body, close=True)
            key = str(status)
        except Exception as e:
            key = "transport: " + type(e).__name__
        lats.append(time.perf_counter() - t)
        codes[key] = codes.get(key, 0) + 1
        c.close()
        time.sleep(0.01)
    out_q.put({"codes": codes, "lat": lats})


async def ws_hold(port, count, hold, extra):
    import websockets
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}"
    addrs = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
    conns, refused, opened_by = [], {}, {}
    heads = [0]

    async def open_one(i, src):
        try:
            ws = await connect(url, local_addr=(src, 0), open_timeout=20, max_size=None, ping_interval=None)
        except Exception as e:
            code = getattr(getattr(e, "response", None), "status_code", None)
            key = f"HTTP {code}" if code else type(e).__name__
            refused[key] = refused.get(key, 0) + 1
            return None
        opened_by[src] = opened_by.get(src, 0) + 1
        if i % 2 == 0:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
        return ws

    # 100 per address (the per-IP cap), spread over as many addresses as needed.
    for i in range(count):
        ws = await open_one(i, addrs[(i // 100) % len(addrs)])
        if ws is not None:
            conns.append(ws)
    # Past the per-IP cap on 127.0.0.1: must be refused, HTTP still served.
    for i in range(extra):
        ws = await open_one(1, "127.0.0.1")
        if ws is not None:
            conns.append(ws)

    async def drain(ws):
        try:
            async for msg in ws:
                if "eth_subscription" in msg:
                    heads[0] += 1
        except Exception:
            pass

    tasks = [asyncio.create_task(drain(ws)) for ws in conns]
    await asyncio.sleep(hold)
    alive = sum(1 for ws in conns if ws.state.name == "OPEN")
    for ws in conns:
        await ws.close()
    for t in tasks:
        t.cancel()
    return {"opened": len(conns), "opened_by_ip": opened_by, "refused": refused,
            "alive_at_end": alive, "newheads_received": heads[0]}


def probe_ws(node, args):
    q = mp.Queue()
    with Watch(node) as w:
        trickle = Trickle(node, interval=0.2)
        https = [mp.Process(target=http_fresh_worker, args=(node.port, args.ws_hold + 10, q)) for _ in range(2)]
        for p in https:
            p.start()
        ws = asyncio.run(ws_hold(node.port, args.ws_conns, args.ws_hold, 5))
        http = [q.get() for _ in https]
        for p in https:
            p.join()
        tr = trickle.finish()
        watch = w.finish()
    codes = {}
    for r in http:
        for k, v in r["codes"].items():
            codes[k] = codes.get(k, 0) + v
    out = dict(watch)
    out.update({"ws": ws, "http_fresh": {"codes": codes, **ms_summary([x for r in http for x in r["lat"]])},
                "trickle": tr})
    out["ok"] = (watch["peak_rss_mb"] < 1024 and set(codes) == {"200"}
                 and ws["opened"] >= min(args.ws_conns, 100))
    return out


# --------------------------------------------------------------------------
# Probe: oversized bodies and batches.


def oversize_worker(port, kind, reps, out_q):
    conn = Conn(port, timeout=120)
    res, lats = {}, []
    for _ in range(reps):
        if kind == "body":
            body = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":["' + b"a" * (10 * MIB + 1024) + b'"]}'
        elif kind == "batch1001":
            body = ("[" + ",".join('{"jsonrpc":"2.0","id":%d,"method":"eth_blockNumber","params":[]}' % i
                                   for i in range(1001)) + "]").encode()
        else:  # 1,000 calls filling ~9.5 MB: each carries 4.7 KB of garbage transaction
            junk = "0x" + os.urandom(4700).hex()
            body = ("[" + ",".join('{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":["%s"]}'
                                   % (i, junk) for i in range(1000)) + "]").encode()
        t = time.perf_counter()
        try:
            status, reply = conn.post(body)
            key = f"HTTP {status}"
            try:
                rep = json.loads(reply)
                if isinstance(rep, dict) and "error" in rep:
                    key += ": " + rep["error"]["message"][:60]
                elif isinstance(rep, list):
                    key += f": batch of {len(rep)} answers"
            except ValueError:
                key += ": " + reply[:60].decode("latin-1")
        except Exception as e:
            key = "transport: " + type(e).__name__
            conn.close()
        lats.append(time.perf_counter() - t)
        res[key] = res.get(key, 0) + 1
    out_q.put({"kind": kind, "res": res, "lat": lats, "body_mb": round(len(body) / MIB, 2)})


def probe_oversize(node, args):
    q = mp.Queue()
    plan = [("body", args.oversize_reps)] * 2 + [("batch1001", args.oversize_reps)] + [("fullbatch", args.oversize_reps)] * 4
    with Watch(node) as w:
        procs = [mp.Process(target=oversize_worker, args=(node.port, k, n, q)) for k, n in plan]
        for p in procs:
            p.start()
        res = [q.get() for _ in procs]
        for p in procs:
            p.join()
        watch = w.finish()
    kinds = {}
    for r in res:
        k = kinds.setdefault(r["kind"], {"body_mb": r["body_mb"], "outcomes": {}, "lat": []})
        k["lat"] += r["lat"]
        for key, v in r["res"].items():
            k["outcomes"][key] = k["outcomes"].get(key, 0) + v
    for k in kinds.values():
        k["answer"] = ms_summary(k.pop("lat"))
    out = dict(watch)
    out["requests"] = kinds
    out["ok"] = watch["peak_rss_mb"] < 1024
    return out


# --------------------------------------------------------------------------


PROBES = {
    "flood": probe_flood,
    "feehistory": probe_feehistory,
    "gapped": probe_gapped,
    "ws": probe_ws,
    "oversize": probe_oversize,
}


def fmt(v):
    return "-" if v is None else str(v)


def summary_table(results):
    rows = [("probe", "peak RSS MB", "VmHWM MB", "start MB", "bN p50 ms", "bN p99 ms", "bN max ms", "ok", "notes")]
    for name, r in results.items():
        if "skipped" in r:
            rows.append((name, "-", "-", "-", "-", "-", "-", "skip", r["skipped"]))
            continue
        if "error" in r:
            rows.append((name, "-", "-", "-", "-", "-", "-", "ERR", r["error"][:80]))
            continue
        bn = r["block_number"]
        if name == "flood":
            note = (f"{r['invalid_sent']:,} invalid at {r['tx_per_s']:,}/s over {r['connections']} conns; "
                    f"{r['txs_mined_during']:,} valid txs in {r['blocks_during']} blocks mined meanwhile; "
                    f"trickle {r['trickle']['mined']}/{r['trickle']['sent']} mined, "
                    f"inclusion p99 {r['trickle']['inclusion']['p99_ms']} ms")
        elif name == "feehistory":
            note = f"{r['requests']} x {r['request_kb']} KB, refused p50/p99 {r['answer']['p50_ms']}/{r['answer']['p99_ms']} ms"
        elif name == "gapped":
            note = (f"{r['sent_mb']} MB sent; " + ", ".join(f"{k}: {v}" for k, v in r["outcomes"].items())
                    + f"; pool holds {r['pool'].get('txpool_mb')} MB")
        elif name == "ws":
            note = (f"{r['ws']['opened']} WS open, refused {r['ws']['refused']}; fresh HTTP {r['http_fresh']['codes']}")
        else:
            note = "; ".join(f"{k} -> {v['outcomes']}" for k, v in r["requests"].items())
        rows.append((name, fmt(r["peak_rss_mb"]), fmt(r["vmhwm_mb"]), fmt(r["start_rss_mb"]), fmt(bn["p50_ms"]),
                     fmt(bn["p99_ms"]), fmt(bn["max_ms"]), "yes" if r["ok"] else "NO", note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (50,000-tx flood, 100 gapped txs a sender)")
    ap.add_argument("--probes", default=",".join(PROBES) + ",p2p", help="comma-separated subset")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--txs", type=int, help="invalid transactions in the flood (default 1,000,000)")
    ap.add_argument("--conns", type=int, default=4, help="flood connections, one process each")
    ap.add_argument("--flood-batch", type=int, default=1, help="transactions per flood request (1: one per request)")
    ap.add_argument("--bench-txs", type=int, help="tally bench --txs alongside the flood (0: none; default 5,000)")
    ap.add_argument("--gapped-per-sender", type=int)
    ap.add_argument("--gapped-size", type=int, default=126_000, help="data bytes of each gapped transaction")
    ap.add_argument("--sign-procs", type=int, default=2, help="processes signing gapped transactions")
    ap.add_argument("--fee-rounds", type=int)
    ap.add_argument("--ws-conns", type=int, default=250)
    ap.add_argument("--ws-hold", type=float)
    ap.add_argument("--oversize-reps", type=int)
    ap.add_argument("--workdir", default="/tmp", help="where the temporary datadirs go")
    ap.add_argument("--keep", action="store_true", help="keep the datadirs and logs")
    args = ap.parse_args()
    q = args.quick
    defaults = dict(txs=50_000 if q else 1_000_000, bench_txs=1000 if q else 5000,
                    gapped_per_sender=100 if q else 1000, fee_rounds=3 if q else 10,
                    ws_hold=10 if q else 30, oversize_reps=3 if q else 10)
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)

    ensure_binary()
    work = Path(tempfile.mkdtemp(prefix="tally-probe-", dir=args.workdir))
    results = {}
    try:
        for name in [p.strip() for p in args.probes.split(",") if p.strip()]:
            if name == "p2p":
                results[name] = {"skipped": "tally dev has no p2p port"}
                continue
            if name not in PROBES:
                sys.exit(f"unknown probe {name!r}: expected some of {', '.join(PROBES)}, p2p")
            print(f"probe: {name} ...", file=sys.stderr, flush=True)
            node = Node(work)
            try:
                results[name] = PROBES[name](node, args)
                alive = node.proc.poll() is None
                results[name]["node_alive_after"] = alive
                if not alive:
                    results[name]["ok"] = False
            except Exception as e:
                results[name] = {"error": f"{type(e).__name__}: {e}"}
            finally:
                node.stop()
            print(f"probe: {name} done", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"probe: datadirs and logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    meta = {"binary": str(BIN), "loadavg": open("/proc/loadavg").read().split()[:3], "cpus": os.cpu_count(),
            "args": vars(args)}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
    else:
        print(summary_table(results))
        print(f"load average at the end: {' '.join(meta['loadavg'])} ({meta['cpus']} CPUs)")
    return 0 if all(r.get("ok", True) for r in results.values() if "skipped" not in r) else 1


if __name__ == "__main__":
    sys.exit(main())
