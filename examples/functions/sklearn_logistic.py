"""Three hospitals: two train a model on their rows together, the third evaluates it on its own
(the scientific Python executor's example: executor_type "python", executor "cpython-sci").

Inputs   train_a, train_b: CSV "x1,...,xn,label" (label 0 or 1) — the two training hospitals.
         test_c: the same columns — the evaluating hospital's rows.
Outputs  model: the fitted coefficients and intercept, one per line (for the training hospitals);
         evaluation: accuracy and row count on test_c (for the evaluating hospital).
Arguments  C (optional): the inverse regularization strength (default 1.0).
Result   "accuracy A on N rows".
"""
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import cloister


def _read(name):
    with cloister.open_input(name) as f:
        frame = pd.read_csv(f)
    return frame.drop(columns=["label"]).to_numpy(dtype=float), frame["label"].to_numpy(dtype=int)


def entrypoint(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    xa, ya = _read("train_a")
    xb, yb = _read("train_b")
    xc, yc = _read("test_c")
    model = LogisticRegression(C=float(args.get("C", "1.0")), max_iter=1000)
    model.fit(np.vstack([xa, xb]), np.concatenate([ya, yb]))
    accuracy = float((model.predict(xc) == yc).mean())
    with cloister.create_output("model") as f:
        f.write("".join("%r\n" % float(w) for w in list(model.coef_[0]) + [model.intercept_[0]]))
    with cloister.create_output("evaluation") as f:
        f.write("accuracy,rows\n%.4f,%d\n" % (accuracy, len(yc)))
    return "accuracy %.4f on %d rows" % (accuracy, len(yc))
