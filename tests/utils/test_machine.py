"""The CPU description that keys `auto`'s backend choice and labels the benchmark reports."""

import os

from hinet_tf.utils.machine import ISA_FLAGS
from hinet_tf.utils.machine import cpu_description
from hinet_tf.utils.machine import cpu_label
from hinet_tf.utils.machine import library_versions

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse4_2 avx fma avx2 sha_ni

processor\t: 1
model name\t: another block, never read
"""

ARM = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes asimddp sve i8mm bf16
CPU part\t: 0xd40
"""


def test_the_model_and_the_kernel_selecting_flags_come_from_cpuinfo(tmp_path):
    (tmp_path / "x86").write_text(X86)
    (tmp_path / "arm").write_text(ARM)
    x86 = cpu_description(tmp_path / "x86")
    assert x86["cpu"] == "AMD EPYC 7B13" and x86["isa_flags"] == ["sse4_2", "avx", "avx2", "fma"]  # ISA_FLAGS order
    assert x86["cpu_id"] == "vendor_id AuthenticAMD, cpu family 25, model 1"  # the generation, where the name hides it
    assert x86["cores"] == os.cpu_count()
    assert cpu_label(x86) == "AMD EPYC 7B13 (vendor_id AuthenticAMD, cpu family 25, model 1)"
    arm = cpu_description(tmp_path / "arm")
    assert arm["isa_flags"] == ["asimd", "asimddp", "i8mm", "bf16", "sve"] and arm["cpu_id"] == "CPU part 0xd40"


def test_without_cpuinfo_the_platform_names_the_cpu(tmp_path):
    description = cpu_description(tmp_path / "missing")
    assert description["cpu"] and description["isa_flags"] == []
    assert description["cpu_id"] == "" and cpu_label(description) == description["cpu"]


def test_this_machine_and_its_libraries_are_described():
    assert set(cpu_description()["isa_flags"]) <= set(ISA_FLAGS)
    versions = library_versions()
    assert {"python", "tensorflow", "keras", "numpy"} <= set(versions)
    assert "no-such-distribution" not in library_versions(("no-such-distribution",))
