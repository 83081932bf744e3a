"""A chart of a party's monthly figures, drawn inside the sandbox and returned as a PNG output
(the scientific Python executor's example: executor_type "python", executor "cpython-sci").

Input    figures: CSV "month,value".
Output   chart: a PNG line chart of value by month.
Arguments  title (optional): the chart's title.
Result   "chart of N points".
"""
import matplotlib

matplotlib.use("Agg")  # no display: draw into memory
import matplotlib.pyplot as plt
import pandas as pd

import cloister


def entrypoint(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    with cloister.open_input("figures") as f:
        frame = pd.read_csv(f)
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    axes.plot(frame["month"], frame["value"], marker="o")
    axes.set_title(args.get("title", "Monthly figures"))
    axes.set_xlabel("month")
    axes.set_ylabel("value")
    figure.tight_layout()
    with cloister.create_output("chart", "wb") as f:
        figure.savefig(f, format="png")
    plt.close(figure)
    return "chart of %d points" % len(frame)
