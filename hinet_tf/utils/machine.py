"""What the code runs on: the CPU (model, the instruction sets that pick the kernels, cores) and library versions.

The fastest runtime differs between CPUs (oneDNN, onnxruntime's MLAS and XNNPACK each have
kernels per instruction set), so a measurement holds only for the CPU it was made on. This
one description keys `Restorer(backend="auto")`'s cached choice and labels every
`hinet benchmark` report.
"""

import importlib.metadata
import os
import platform

# The extensions the runtimes' convolution and matrix kernels are chosen by: x86 vector
# widths, FMA, int8 and bf16 dot products and AMX tiles; Arm NEON, its dot products and SVE.
ISA_FLAGS = (
    *"sse4_2 avx avx2 fma f16c avx_vnni avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16".split(),
    *"amx_tile amx_bf16 amx_int8".split(),
    *"asimd asimddp asimdhp i8mm bf16 sve sve2".split(),
)

# The fields that identify the processor when its name does not: a VM may call a CPU only
# "AMD EPYC", whose family and model numbers tell its generation.
ID_FIELDS = ("vendor_id", "cpu family", "model", "stepping", "CPU implementer", "CPU part")

# Distribution names of the libraries whose versions a measurement depends on.
LIBRARIES = ("hinet-tf", "tensorflow", "keras", "numpy", "onnxruntime", "onnx", "tf2onnx", "ai-edge-litert", "torch")


def cpu_description(cpuinfo="/proc/cpuinfo"):
    """`{"cpu", "cpu_id", "architecture", "isa_flags", "cores"}` of this machine (`cpuinfo` is read where it exists).

    `isa_flags` are those of `ISA_FLAGS` the CPU reports, in that order; without a
    `cpuinfo` file (macOS, Windows) the model is the platform's name for the processor and
    the list is empty. `cpu_id` lists the `ID_FIELDS` the CPU reports.
    """
    fields = {}
    try:
        with open(cpuinfo) as file:
            for line in file:
                if not line.strip():
                    break  # the first processor's block is enough: the cores of a machine are alike
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    model = fields.get("model name") or fields.get("Model") or platform.processor() or "unknown CPU"
    reported = set((fields.get("flags") or fields.get("Features") or "").split())
    return {
        "cpu": model,
        "cpu_id": ", ".join(f"{key} {fields[key]}" for key in ID_FIELDS if key in fields),
        "architecture": platform.machine(),
        "isa_flags": [flag for flag in ISA_FLAGS if flag in reported],
        "cores": os.cpu_count(),
    }


def cpu_label(description):
    """The CPU of a `cpu_description` in words: its name, and its `cpu_id` where it reports one."""
    return f"{description['cpu']} ({description['cpu_id']})" if description.get("cpu_id") else description["cpu"]


def library_versions(names=LIBRARIES):
    """`{name: version}` of the installed distributions among `names`, and Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions
