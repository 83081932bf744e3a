"""Logistic regression prediction as a Python function (the Python executor's example).

Inputs   model_file (from logistic_regression_train.py), data_file: CSV lines "x1,...,xn".
Output   result_file: one probability per line.
Result   "predicted N rows".
"""
import math

from teaclave import teaclave_open  # Teaclave's API works too


def entrypoint(argv):
    with teaclave_open("model_file", "r") as model:
        weights = [float(line) for line in model if line.strip()]
    count = 0
    with teaclave_open("data_file", "r") as data, teaclave_open("result_file", "w") as result:
        for line in data:
            if not line.strip():
                continue
            x = [float(v) for v in line.split(",")]
            z = sum(w * v for w, v in zip(weights, x)) + weights[-1]
            result.write("%.6f\n" % (1.0 / (1.0 + math.exp(-z))))
            count += 1
    return "predicted %d rows" % count
