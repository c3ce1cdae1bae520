import subprocess
import sys

result = subprocess.run([sys.executable, "child.py", "inventory.csv"], check=True)
print("child ok", result.returncode)
