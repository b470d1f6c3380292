"""Runs the code blocks of Markdown files in order, each file in its own folder, as a reader would.

`python docs_runner.py BLOCKS.json`: `{folder: [{"name", "language", "text", "commands", "exit"}]}`.
Python blocks run with `exec` in a fresh namespace; a bash block's commands must be `hinet`
commands, run in this process (TensorFlow is imported once for every file) and expected to exit
with `exit`. The first block that fails stops the run with its name.
"""

import json
import os
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
    root = os.getcwd()
    for folder, blocks in json.loads(open(sys.argv[1]).read()).items():
        os.chdir(os.path.join(root, folder))
        for block in blocks:
            start = time.perf_counter()
            run(block)
            print(f"{block['name']}: {time.perf_counter() - start:.1f} s", flush=True)
