"""Runs the code blocks of one Markdown file in order, in the current folder, as a reader would.

`python docs_runner.py BLOCKS.json`: a list of `{"name", "language", "text", "commands", "exit"}`.
Python blocks run with `exec` in a fresh namespace; a bash block's commands must be `hinet`
commands, run in this process (TensorFlow is imported once for the whole file) and expected to
exit with `exit`. The first block that fails stops the run with its name.
"""

import json
import sys
import time

from hinet_tf.cli.main import main


def run(block):
    if block["language"] == "python":
        exec(compile(block["text"], block["name"], "exec"), {"__name__": "__main__"})
        return
    for line in block["commands"]:
        for program, *arguments in line:
            if program != "hinet":
                raise SystemExit(f"{block['name']}: only hinet commands run here, not {program!r}")
            code = main(arguments)
            if code != block["exit"]:
                raise SystemExit(f"{block['name']}: `hinet {' '.join(arguments)}` exited with {code}")


if __name__ == "__main__":
    for block in json.loads(open(sys.argv[1]).read()):
        start = time.perf_counter()
        run(block)
        print(f"{block['name']}: {time.perf_counter() - start:.1f} s", flush=True)
