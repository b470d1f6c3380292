"""The operators a `.tflite` file uses, read from its flatbuffer's operator codes."""

from pathlib import Path

from ai_edge_litert import schema_py_generated as schema

_BUILTIN_NAMES = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


def operators(path):
    """`(builtin, custom)`: the sets of builtin op names (e.g. "CONV_2D") and custom op codes of a `.tflite` file.

    A TensorFlow op kept by SELECT_TF_OPS is a custom op whose code is "Flex" + its name.
    """
    model = schema.Model.GetRootAs(Path(path).read_bytes(), 0)
    builtin, custom = set(), set()
    for index in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(index)
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())  # codes above 127 are in the first only
        if number == schema.BuiltinOperator.CUSTOM:
            custom.add(code.CustomCode().decode())
        else:
            builtin.add(_BUILTIN_NAMES[number])
    return builtin, custom
