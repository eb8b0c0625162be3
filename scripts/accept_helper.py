#!/usr/bin/env python3
"""Helpers for scripts/accept-cashier.sh (standard library only).

  freeport                      print a free loopback TCP port
  proxy LISTEN TARGET           forward 127.0.0.1:LISTEN to 127.0.0.1:TARGET
                                until killed (the script kills it to cut the
                                bank off: new connections are then refused)
  wait-port PORT                wait until 127.0.0.1:PORT accepts (10 s)
  orders-has FEN STATE[,STATE]  stdin: `scanbox orders --json`; exit 0 if an
                                order of FEN reached one of the states
  orders-count                  stdin: orders JSON; print how many
  orders-state FEN              stdin: orders JSON; print the newest order
                                of FEN's state ("none" if there is none)
  ledger-check SIM_ROOT         compare the bank simulator's ledger with
                                stdin (orders JSON): no code paid twice, and
                                the paid orders are the same on both sides
"""
import json
import socket
import sys
import threading
import urllib.request


def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy(listen, target):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(listen)))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        try:
            u = socket.create_connection(("127.0.0.1", int(target)))
        except OSError:
            c.close()
            continue
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


def wait_port(port):
    import time
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    print("nothing listens on port %s after 10 s" % port, file=sys.stderr)
    sys.exit(1)


def load_orders():
    try:
        return json.load(sys.stdin)
    except ValueError:
        return None


def orders_has(fen, states):
    orders = load_orders() or []
    want = set(states.split(","))
    ok = any(o["amount_fen"] == int(fen) and o["state"] in want for o in orders)
    sys.exit(0 if ok else 1)


def orders_count():
    orders = load_orders()
    print(-1 if orders is None else len(orders))


def orders_state(fen):
    orders = [o for o in (load_orders() or []) if o["amount_fen"] == int(fen)]
    orders.sort(key=lambda o: o.get("created_at", ""))
    print(orders[-1]["state"] if orders else "none")


def ledger_check(root):
    orders = load_orders()
    if orders is None:
        print("orders JSON unreadable")
        sys.exit(1)
    with urllib.request.urlopen(root.rstrip("/") + "/_sim/ledger", timeout=10) as r:
        led = json.load(r)
    bad = []
    twice = {c: n for c, n in (led.get("paid_count_by_code") or {}).items() if n > 1}
    if twice:
        bad.append("codes paid more than once at the bank: %d" % len(twice))
    bank_paid = {e["out_trade_no"]: e["total_fee"] for e in led.get("entries") or []
                 if e.get("state") == "SUCCESS"}
    ours = {o["out_trade_no"]: o["amount_fen"] for o in orders if o["state"] == "paid"}
    if bank_paid != ours:
        bad.append("paid at the bank %s, paid in the journal %s" % (sorted(bank_paid.items()), sorted(ours.items())))
    if bad:
        print("; ".join(bad))
        sys.exit(1)
    print("%d paid orders, the same at the bank; no code paid twice" % len(ours))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"freeport": freeport, "proxy": proxy, "orders-has": orders_has,
     "orders-count": orders_count, "wait-port": wait_port, "orders-state": orders_state,
     "ledger-check": ledger_check}[cmd](*args)


if __name__ == "__main__":
    main()
