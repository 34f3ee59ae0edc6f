#!/usr/bin/python3
"""bench/chart.py — the chart of bench/compare.sh.

    /usr/bin/python3 bench/chart.py DATA.tsv OUT.png [TITLE]
    /usr/bin/python3 bench/chart.py --check

DATA.tsv has a header and one line per target and client count:
target, clients, tps, p50_ms, p99_ms ("-" for a missing value). The chart
has two panels: TPS by client count per target (grouped bars) and p99
latency the same way. --check only tells (exit status) whether matplotlib
can be imported. Needs Debian's matplotlib: apt-get install -y python3-matplotlib
"""

import csv
import sys

INSTALL = "apt-get install -y python3-matplotlib (then run this with /usr/bin/python3)"

COLORS = {
    "direct": "#7f7f7f",
    "pgbouncer": "#1f77b4",
    "pgmantle": "#2ca02c",
    "restricted": "#d62728",
}
LABELS = {
    "direct": "PostgreSQL direct",
    "pgbouncer": "PgBouncer (session)",
    "pgmantle": "pgmantle unrestricted",
    "restricted": "pgmantle restricted (masks, tokens, audit)",
}


def load_matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        print(f"chart.py: matplotlib is not installed for {sys.executable}; install it with: {INSTALL}",
              file=sys.stderr)
        sys.exit(2)


def number(s):
    try:
        return float(s)
    except ValueError:
        return None


def read(path):
    targets, clients, data = [], [], {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            t, c = row["target"], int(row["clients"])
            if t not in targets:
                targets.append(t)
            if c not in clients:
                clients.append(c)
            data[(t, c)] = {k: number(row[k]) for k in ("tps", "p50_ms", "p99_ms")}
    return targets, sorted(clients), data


def bars(ax, targets, clients, data, key, fmt):
    width = 0.8 / max(len(targets), 1)
    for i, t in enumerate(targets):
        xs, ys = [], []
        for j, c in enumerate(clients):
            v = data.get((t, c), {}).get(key)
            if v is not None:
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(v)
        rects = ax.bar(xs, ys, width, label=LABELS.get(t, t), color=COLORS.get(t))
        ax.bar_label(rects, labels=[fmt(v) for v in ys], fontsize=7, padding=2)
    ax.set_xticks(range(len(clients)))
    ax.set_xticklabels([f"{c} client{'s' if c != 1 else ''}" for c in clients])
    ax.margins(y=0.12)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def main(argv):
    if argv[1:] == ["--check"]:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(f"chart.py: matplotlib is not installed for {sys.executable}; install it with: {INSTALL}",
                  file=sys.stderr)
            return 2
        return 0
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    plt = load_matplotlib()
    targets, clients, data = read(argv[1])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    bars(ax1, targets, clients, data, "tps", lambda v: f"{v / 1000:.1f}k")
    ax1.set_title("Throughput (TPS, higher is better)")
    ax1.set_ylabel("transactions per second")
    bars(ax2, targets, clients, data, "p99_ms", lambda v: f"{v:.2f}")
    ax2.set_title("p99 latency (ms, lower is better)")
    ax2.set_ylabel("milliseconds")
    handles, labels = ax1.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(targets), frameon=False)
    if len(argv) == 4:
        fig.suptitle(argv[3])
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
