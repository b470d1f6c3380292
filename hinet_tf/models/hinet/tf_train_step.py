"""The TensorFlow training step: one forward pass, one all-reduce, clipping after the cross-replica sum.

Under `tf.distribute.MirroredStrategy` (or `MultiWorkerMirroredStrategy`) each replica
divides its loss by the replica count, the gradients are summed over replicas once and
their global norm is clipped on that sum: the official single-device step with the same
global batch. Keras' own `global_clipnorm` would clip each replica before the sum.
"""

import tensorflow as tf


def train_step(model, data):
    """One step of a compiled `StageLossTraining` model on `(degraded, target)`; returns its logs."""
    degraded, target = data[0], data[1]
    with tf.GradientTape() as tape:
        outputs = model.stage_outputs(degraded, training=True)
        loss = model.stage_loss(target, outputs)
        replica_loss = loss / model.distribute_strategy.num_replicas_in_sync
        scaled_loss = model.optimizer.scale_loss(replica_loss)
    variables = model.trainable_variables
    gradients = reduce_and_clip(model, tape.gradient(scaled_loss, variables))
    model.optimizer.apply(gradients, variables)
    model._loss_tracker.update_state(loss)
    return model.compute_metrics(degraded, target, outputs[-1])


def reduce_and_clip(model, gradients):
    """Sums the gradients of all replicas once and clips their global norm at `model.clip_norm`.

    The gradients carry the loss scale: the limit is scaled with it, and a non-finite
    gradient stays non-finite so that the loss scale optimizer skips the step.
    """
    if model.distribute_strategy.num_replicas_in_sync > 1:
        gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
    if model.clip_norm is None:
        return gradients
    loss_scale = tf.cast(model.optimizer.scale_loss(1.0), tf.float32)
    gradients, _ = tf.clip_by_global_norm(gradients, model.clip_norm * loss_scale)
    return gradients


def take_gradients_as_reduced(optimizer):
    """Stops a TensorFlow Keras optimizer from summing the gradients over replicas a second time.

    Keras' TensorFlow optimizers all-reduce the gradients (`_all_reduce_sum_gradients`)
    before they update the weights; `train_step` has summed and clipped them already, so
    the optimizer (or the one inside a `LossScaleOptimizer`) takes them as they are.
    """
    object.__setattr__(optimizer, "_all_reduce_sum_gradients", list)  # the (gradient, variable) pairs, unchanged
