import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
worst = 0
for k in a.files:
    x, y = a[k], b[k]
    if any(s in k for s in ("_g", "vmapgrad")):
        rel = np.max(np.abs(x - y)) / max(np.max(np.abs(x)), 1e-300)
        worst = max(worst, rel)
        print(f"{k:22s} grad rel {rel:.2e}")
    else:
        eq = np.array_equal(x, y, equal_nan=True)
        print(f"{k:22s} bitwise {eq}")
print("worst grad rel", worst)
