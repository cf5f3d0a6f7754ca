#!/usr/bin/env python3
"""Fits irqlab-sim's cost parameters on the published calibration table.

Runs `irqlab-sim --calibrate --json` with --set overrides and minimises the
squared relative errors (QPS, CPU shares, IPC; p99 lightly) with Nelder-Mead
over log-parameters. Prints the best parameter set as config lines.
Usage: sim/fit.py BUILD/irqlab-sim thesis|cover|vm [iterations] [key=value...]
(vm: the VM cost parameters on the thesis VM rows and the DID row; the
bare-metal parameters stay as fitted.)
Keys given on the command line are fixed (not fitted). FIT_TIME (simulated
seconds per run, default 0.1) sets the run length."""
import json, math, os, subprocess, sys

BIN, MACHINE = sys.argv[1], sys.argv[2]
ITERS = int(sys.argv[3]) if len(sys.argv) > 3 else 200
FIXED = sys.argv[4:]

PARAMS = {
    "thesis": {"cost.ipc0": 0.92, "cost.sys_req": 9000, "cost.rx_pkt": 5500,
               "cost.pen_async": 4000, "cost.pen_kern": 4000,
               "cost.pen_pkt": 300, "cost.irq": 900, "svc": 5000},
    "cover": {"cost.ipc0": 1.076, "cost.pen_async": 3385, "cost.cs": 2702,
              "cost.pen_kern": 3653, "cost.pen_pkt": 295, "cost.pen_wake": 2060,
              "cost.timer": 600, "cost.wake": 1200},
    "vm": {"vmcost.ipc": 0.7772, "vmcost.pen_exit": 296, "vmcost.pen_exit_app": 782,
           "vmcost.vhost_rx_pkt": 3036, "vmcost.vhost_tx_pkt": 4248,
           "vmcost.exit_io": 1959},
}[MACHINE]
# vmcost.* only acts in VM rows: set for every row
PREFIX = "" if MACHINE == "vm" else MACHINE + ":"


def mine(setup):
    if MACHINE == "vm":
        return setup.startswith("vm-") or setup.startswith("did-")
    return setup.startswith(MACHINE)
for kv in FIXED:
    k = kv.split("=")[0]
    PARAMS.pop(k, None)
names = list(PARAMS)


def sets(x):
    out = []
    for n, v in zip(names, x):
        if n == "svc":
            out.append(f"{PREFIX}workload.service=fixed:{v:.0f}")
        else:
            out.append(f"{PREFIX}{n}={v:.6g}")
    return out + [f"{PREFIX}{kv}" for kv in FIXED]


def run(x, t=os.environ.get("FIT_TIME", "0.1")):
    cmd = [BIN, "--calibrate", "--json", "--calib-time", t]
    for s in sets(x):
        cmd += ["--set", s]
    env = dict(os.environ, IRQLAB_SIM_CALIB_ONLY=MACHINE)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return json.loads(p.stdout)


def loss(x):
    rows = run(x)
    tot = 0.0
    for r in rows:
        if not mine(r["setup"]):
            continue
        for f in r["figures"]:
            pub, sim = f["published"], f["simulated"]
            if f["figure"] in ("qps", "in_guest%"):
                e = (sim - pub) / pub
                tot += 4 * e ** 2 + 50 * max(0, abs(e) - 0.07) ** 2
            elif f["figure"].endswith("%"):
                e = (sim - pub) / max(pub, 10)
                tot += e ** 2 + 50 * max(0, abs(e) - 0.07) ** 2
            elif f["figure"] == "ipc":
                tot += ((sim - pub) / pub) ** 2
            elif f["figure"] == "p99us":
                tot += 0.05 * ((sim - pub) / pub) ** 2
    # order of QPS within the machine
    q = [f["simulated"] for r in rows if mine(r["setup"]) and r["setup"].startswith(
         "vm-" if MACHINE == "vm" else MACHINE)
         for f in r["figures"] if f["figure"] == "qps"]
    for a, b in zip(q, q[1:]):
        if a >= b:
            tot += 0.01 + 10 * ((a - b) / b) ** 2
    return tot


def nelder_mead(f, x0, iters):
    n = len(x0)
    pts = [list(x0)]
    for i in range(n):
        p = list(x0)
        p[i] += 0.15
        pts.append(p)
    vals = [f(p) for p in pts]
    for it in range(iters):
        order = sorted(range(n + 1), key=lambda i: vals[i])
        pts = [pts[i] for i in order]
        vals = [vals[i] for i in order]
        if it % 10 == 0:
            print(f"# iter {it} loss {vals[0]:.5f}", file=sys.stderr, flush=True)
        c = [sum(p[i] for p in pts[:-1]) / n for i in range(n)]
        xr = [c[i] + (c[i] - pts[-1][i]) for i in range(n)]
        fr = f(xr)
        if fr < vals[0]:
            xe = [c[i] + 2 * (c[i] - pts[-1][i]) for i in range(n)]
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = [c[i] + 0.5 * (pts[-1][i] - c[i]) for i in range(n)]
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                for j in range(1, n + 1):
                    pts[j] = [pts[0][i] + 0.5 * (pts[j][i] - pts[0][i]) for i in range(n)]
                    vals[j] = f(pts[j])
    b = min(range(n + 1), key=lambda i: vals[i])
    return pts[b], vals[b]


x0 = [math.log(max(v, 1e-3)) for v in PARAMS.values()]
best, val = nelder_mead(lambda lx: loss([math.exp(v) for v in lx]), x0, ITERS)
x = [math.exp(v) for v in best]
print(f"# loss {val:.5f}")
for s in sets(x):
    print(s)
