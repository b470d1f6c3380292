"""The TensorFlow training step: one forward pass through every stage and one all-reduce of the gradients.

Under `tf.distribute.MirroredStrategy` (or `MultiWorkerMirroredStrategy`) each replica's
loss is already divided by the replica count (Keras' loss reduction); the gradients are
summed over the replicas once, here, and the optimizer clips that sum with its own
`global_clipnorm`: the official single-device step with the same global batch.
"""

import keras
import tensorflow as tf


def train_step(model, data):
    """One step of a compiled `HINetImageRestorer` on `(degraded, target[, sample_weight])`; returns its logs."""
    degraded, target, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    replicas = model.distribute_strategy.num_replicas_in_sync
    with tf.GradientTape() as tape:
        outputs = model.stage_outputs(degraded, training=True)
        loss = model.stage_loss(target, outputs, sample_weight)
        scaled_loss = model.optimizer.scale_loss(loss)
    gradients = tape.gradient(scaled_loss, model.trainable_variables)
    if replicas > 1:
        gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
    model.optimizer.apply(gradients, model.trainable_variables)
    for metric in model.metrics:
        if metric.name == "loss":  # Keras' loss tracker, as the keras.io guide to a custom `train_step` updates it
            metric.update_state(loss * replicas)
    return model.compute_metrics(degraded, target, outputs[-1])
