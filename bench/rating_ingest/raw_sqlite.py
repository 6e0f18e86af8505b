"""The raw insert rate of the server's own rating rows into the same SQLite database: 64 threads,
each row its own IMMEDIATE transaction, WAL and synchronous=NORMAL as the server runs it; a copy of
a row the server wrote. Prints the rows per second."""
import sqlite3, sys, threading, time

db, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(db)
cols = [r[1] for r in con.execute("PRAGMA table_info(ratings)") if r[1] != "id"]
template = con.execute("SELECT max(id) FROM ratings").fetchone()[0]
con.close()
sql = f"INSERT INTO ratings ({', '.join(cols)}) SELECT {', '.join(cols)} FROM ratings WHERE id = {template}"
count = [0] * threads
stop = time.monotonic() + seconds


def work(i):
    c = sqlite3.connect(db, timeout=30, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=NORMAL")
    while time.monotonic() < stop:
        c.execute("BEGIN IMMEDIATE")
        c.execute(sql)
        c.execute("COMMIT")
        count[i] += 1
    c.close()


start = time.monotonic()
ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
[t.start() for t in ts]
[t.join() for t in ts]
print(f"{sum(count) / (time.monotonic() - start):.1f}")
