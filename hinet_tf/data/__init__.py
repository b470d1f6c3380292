"""Training and evaluation data: dataset layouts, tf.data pipelines, synthetic degradations.

`hinet_tf.data.layouts` and `hinet_tf.data.sidd_blocks` are pure Python (no TensorFlow import);
the pipeline modules import TensorFlow.
"""
