"""Logistic regression training as a Python function (the Python executor's example).

Arguments  alg_alpha (learning rate), alg_iters (iterations).
Input      training_data: CSV lines "x1,...,xn,label" with label 0 or 1.
Output     model_file: the weights, one per line, the bias last.
Result     "trained on N samples".
"""
import math

import cloister


def entrypoint(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    alpha = float(args["alg_alpha"])
    iterations = int(args["alg_iters"])
    rows = []
    with cloister.open_input("training_data") as data:
        for line in data:
            if line.strip():
                values = [float(v) for v in line.split(",")]
                rows.append((values[:-1], values[-1]))
    features = len(rows[0][0])
    weights = [0.0] * (features + 1)
    for _ in range(iterations):
        gradient = [0.0] * (features + 1)
        for x, label in rows:
            z = sum(w * v for w, v in zip(weights, x)) + weights[-1]
            error = 1.0 / (1.0 + math.exp(-z)) - label
            for i, v in enumerate(x):
                gradient[i] += error * v
            gradient[-1] += error
        weights = [w - alpha * g / len(rows) for w, g in zip(weights, gradient)]
    with cloister.create_output("model_file") as model:
        model.write("".join("%r\n" % w for w in weights))
    print("trained %d weights" % len(weights))
    return "trained on %d samples" % len(rows)
