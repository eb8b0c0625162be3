#!/usr/bin/env python3
"""A POS program driving ScanBox's POS API with the standard library only.

Usage: pos_client.py BASE_URL TOKEN_FILE
Run by e2e/posapi_test.go against `scanbox serve` and the bank simulator;
docs/pos-api.md shows the same calls. Exits 0 when every check held.
"""
import json
import socket
import sys
import urllib.error
import urllib.request

BASE, TOKEN_FILE = sys.argv[1], sys.argv[2]
with open(TOKEN_FILE) as f:
    TOKEN = f.read().strip()


def call(method, path, body=None, token=TOKEN, headers=None):
    """Returns (HTTP status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


# No token, a wrong token: refused with the CLI's usage exit code.
st, body = call("GET", "/v1/status", token=None)
check(st == 401 and body["error"]["code"] == "UNAUTHORIZED" and body["error"]["exit_code"] == 2, "no token is refused")
st, body = call("GET", "/v1/status", token="0" * 64)
check(st == 401, "a wrong token is refused")
# A browser page elsewhere (Origin) and DNS rebinding (Host) are refused.
st, body = call("GET", "/v1/status", headers={"Origin": "https://evil.example"})
check(st == 403, "a foreign web origin is refused")
st, body = call("GET", "/v1/status", headers={"Host": "evil.example"})
check(st == 403, "a foreign Host header is refused")

st, status = call("GET", "/v1/status")
check(st == 200 and status["activated"] and status["owner"]["kind"] == "serve", "status: activated, owned by serve")

# Pay: the POS says the total, the cashier scans, the POS follows to the end.
st, body = call("PUT", "/v1/amount", {"amount": "12.50"})
check(st == 200 and body["amount_fen"] == 1250, "amount set")
st, o = call("POST", "/v1/payments", {"code": "134567890123456780"})
check(st == 202 and o["amount_fen"] == 1250, "payment started with the set amount")
while not o["final"] and o["state"] == "unknown" and o["order_state"] in ("pending", "waiting", "closing"):
    st, o = call("GET", "/v1/orders/%s?wait=30s" % o["out_trade_no"])
check(o["state"] == "paid" and o["exit_code"] == 0 and o["transaction_id"], "followed to paid")
paid_no = o["out_trade_no"]

# Cancel: a payer who never confirms (the simulator: last digit 6).
st, o = call("POST", "/v1/payments", {"code": "134567890123456786", "amount_fen": 300})
check(st == 202, "second payment started")
no = o["out_trade_no"]
for _ in range(200):
    st, o = call("GET", "/v1/orders/" + no)
    if o["order_state"] == "waiting":
        break
    st, o = call("GET", "/v1/orders/%s?wait=0.05s" % no)
check(o["order_state"] == "waiting", "the payer is confirming")
st, o = call("POST", "/v1/orders/%s/cancel" % no)
check(st == 202, "cancel accepted")
st, o = call("GET", "/v1/orders/%s?wait=30s" % no)
check(o["state"] == "closed" and o["exit_code"] == 1, "cancelled order is closed (exit code 1)")

# The same code again, and a product barcode: the CLI's refusals.
st, e = call("POST", "/v1/payments", {"code": "134567890123456780", "amount": "1.00"})
check(st == 409 and e["error"]["code"] == "CODE_ALREADY_PAID" and e["error"]["exit_code"] == 1, "a paid code is refused")
st, e = call("POST", "/v1/payments", {"code": "6901234567892", "amount": "1.00"})
check(e["error"]["code"] == "NOT_A_PAYMENT_CODE", "a product barcode is refused")

st, orders = call("GET", "/v1/orders?limit=10")
check(st == 200 and {paid_no, no} <= {x["out_trade_no"] for x in orders}, "recent orders list both")

# From another address of this machine: nothing listens there.
port = int(BASE.rsplit(":", 1)[1])
others = set()
try:
    for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        others.add(info[4][0])
except OSError:
    pass
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
    others.add(s.getsockname()[0])
except OSError:
    pass
finally:
    s.close()
others = {a for a in others if not a.startswith("127.")}
for addr in sorted(others):
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect((addr, port))
        check(False, "the API must not answer on %s" % addr)
    except OSError:
        print("ok: nothing answers on %s:%d" % (addr, port))
    finally:
        c.close()
print("ALL OK (%d non-loopback address(es) tried)" % len(others))
