//! [`TrainKernels`] on `Autodiff<B>`: each operation runs `B`'s and records a backward step that
//! calls `B`'s gradient kernels.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::{TensorMetadata, tensor::FloatTensor, tensor::IntTensor};

use super::Geometry;
use super::TrainKernels;

/// Registers each gradient whose parent takes part in the graph (a parent `None` needs none).
fn register<B: TrainKernels, const N: usize>(grads: &mut Gradients, pairs: [(Option<NodeId>, FloatTensor<B>); N]) {
    for (node, grad) in pairs {
        if let Some(id) = node {
            grads.register::<B>(id, grad);
        }
    }
}

/// Backward step of [`TrainKernels::max_pool2d_nchw`].
#[derive(Debug)]
struct MaxPoolBackward;

impl<B: TrainKernels> Backward<B, 1> for MaxPoolBackward {
    /// Checkpointed input, kernel, stride.
    type State = (NodeId, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, kernel, stride) = ops.state;
        if let Some(node) = node_x {
            let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
            grads.register::<B>(node.id, B::max_pool2d_backward_nchw(x, dy, kernel, stride));
        }
    }
}

/// Backward step of [`TrainKernels::linear_act`].
#[derive(Debug)]
struct LinearBackward;

impl<B: TrainKernels> Backward<B, 3> for LinearBackward {
    /// Checkpointed input and weight, the output, the activation.
    type State = (NodeId, NodeId, FloatTensor<B>, u8);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents.map(|p| p.map(|n| n.id));
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, y, act) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        let (dx, dw, db) = B::linear_act_backward(x, w, y, dy, act);
        register::<B, 3>(grads, [(node_x, dx), (node_w, dw), (node_b, db)]);
    }
}

/// Backward step of [`TrainKernels::bce_with_logits_rows`].
#[derive(Debug)]
struct BceBackward;

impl<B: TrainKernels> Backward<B, 2> for BceBackward {
    /// Checkpointed logits and targets.
    type State = (NodeId, NodeId);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_logits, node_targets] = ops.parents.map(|p| p.map(|n| n.id));
        let g = grads.consume::<B>(&ops.node);
        let (logits_id, targets_id) = ops.state;
        let logits: FloatTensor<B> = checkpointer.retrieve_node_output(logits_id);
        let targets: FloatTensor<B> = checkpointer.retrieve_node_output(targets_id);
        let (dl, dx) = B::bce_with_logits_backward(logits, targets, g);
        register::<B, 2>(grads, [(node_logits, dl), (node_targets, dx)]);
    }
}

/// Backward step of [`TrainKernels::batch_norm_relu_train_nchw`].
#[derive(Debug)]
struct BatchNormBackward;

impl<B: TrainKernels> Backward<B, 3> for BatchNormBackward {
    /// Checkpointed input and gamma, the output, the batch statistics, epsilon.
    type State = (NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents.map(|p| p.map(|n| n.id));
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, gamma_id, y, mean, var, epsilon) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(gamma_id);
        let (dx, dgamma, dbeta) = B::batch_norm_relu_backward_nchw(x, y, dy, gamma, mean, var, epsilon);
        register::<B, 3>(grads, [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)]);
    }
}

/// Backward step of [`TrainKernels::batch_norm_relu_pool_train_nchw`].
#[derive(Debug)]
struct BatchNormPoolBackward;

impl<B: TrainKernels> Backward<B, 3> for BatchNormPoolBackward {
    /// Checkpointed input and gamma, the winners, the batch statistics, epsilon.
    type State = (NodeId, NodeId, IntTensor<B>, FloatTensor<B>, FloatTensor<B>, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents.map(|p| p.map(|n| n.id));
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, gamma_id, winners, mean, var, epsilon) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(gamma_id);
        let (dx, dgamma, dbeta) = B::batch_norm_relu_pool_backward_nchw(x, winners, dy, gamma, mean, var, epsilon);
        register::<B, 3>(grads, [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)]);
    }
}

/// Backward step of [`TrainKernels::conv2d_nchw`].
#[derive(Debug)]
struct Conv2dBackward;

impl<B: TrainKernels> Backward<B, 3> for Conv2dBackward {
    /// Checkpointed input and weight, geometry, input size, kernel.
    type State = (NodeId, NodeId, Geometry, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, geometry, in_size, kernel) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::conv2d_input_grad(dy.clone(), w, geometry, in_size));
        }
        if node_w.is_some() || node_b.is_some() {
            let (dw, db) = B::conv2d_weight_grad(x, dy, geometry, kernel);
            register::<B, 2>(grads, [(node_w.map(|n| n.id), dw), (node_b.map(|n| n.id), db)]);
        }
    }
}

/// Backward step of [`TrainKernels::conv_transpose2d_nchw`].
#[derive(Debug)]
struct ConvTranspose2dBackward;

impl<B: TrainKernels> Backward<B, 3> for ConvTranspose2dBackward {
    /// Checkpointed input and weight, geometry, kernel.
    type State = (NodeId, NodeId, Geometry, [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, geometry, kernel) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::channel_sums(dy.clone()));
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::conv_transpose2d_input_grad(dy.clone(), w, geometry));
        }
        if let Some(node) = node_w {
            // The convolution from the output (dy's shape) back to x: its weight gradient, with
            // dy as the input and x as the output gradient.
            let (dw, _) = B::conv2d_weight_grad(dy, x, geometry, kernel);
            grads.register::<B>(node.id, dw);
        }
    }
}

impl<B: TrainKernels, C: CheckpointStrategy> TrainKernels for Autodiff<B, C> {
    fn conv2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self> {
        let xd = x.primitive().shape().dims::<4>();
        let wd = weight.primitive().shape().dims::<4>();
        match Conv2dBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::conv2d_nchw(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), geometry);
                prep.finish((x_id, w_id, geometry, [xd[2], xd[3]], [wd[2], wd[3]]), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_nchw(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                geometry,
            )),
        }
    }

    fn conv_transpose2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
        out_size: [usize; 2],
    ) -> FloatTensor<Self> {
        let wd = weight.primitive().shape().dims::<4>();
        match ConvTranspose2dBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::conv_transpose2d_nchw(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    geometry,
                    out_size,
                );
                prep.finish((x_id, w_id, geometry, [wd[2], wd[3]]), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv_transpose2d_nchw(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                geometry,
                out_size,
            )),
        }
    }

    // The gradient kernels run inside backward steps on the inner backend; called on autodiff
    // tensors they compute the same values, untracked.
    fn conv2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
        in_size: [usize; 2],
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::conv2d_input_grad(dy.into_primitive(), weight.into_primitive(), geometry, in_size))
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        geometry: Geometry,
        kernel: [usize; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dw, db) = B::conv2d_weight_grad(x.into_primitive(), dy.into_primitive(), geometry, kernel);
        (FloatTensor::<Self>::new(dw), FloatTensor::<Self>::new(db))
    }

    fn conv_transpose2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::conv_transpose2d_input_grad(dy.into_primitive(), weight.into_primitive(), geometry))
    }

    fn channel_sums(t: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::channel_sums(t.into_primitive()))
    }

    fn batch_norm_relu_train_nchw(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prep = BatchNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
        let untracked = |t| FloatTensor::<Self>::new(t);
        let run = |x: FloatTensor<Self>, gamma: FloatTensor<Self>| {
            B::batch_norm_relu_train_nchw(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), epsilon)
        };
        match prep {
            OpsKind::Tracked(mut prep) => {
                let (x_id, gamma_id) = (prep.checkpoint(&x), prep.checkpoint(&gamma));
                let (out, mean, var) = run(x, gamma);
                let out = prep.finish((x_id, gamma_id, out.clone(), mean.clone(), var.clone(), epsilon), out);
                (out, untracked(mean), untracked(var))
            }
            OpsKind::UnTracked(prep) => {
                let (out, mean, var) = run(x, gamma);
                (prep.finish(out), untracked(mean), untracked(var))
            }
        }
    }

    fn max_pool2d_nchw(x: FloatTensor<Self>, kernel: [usize; 2], stride: [usize; 2]) -> FloatTensor<Self> {
        match MaxPoolBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let out = B::max_pool2d_nchw(x.into_primitive(), kernel, stride);
                prep.finish((x_id, kernel, stride), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool2d_nchw(x.into_primitive(), kernel, stride)),
        }
    }

    fn max_pool2d_backward_nchw(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::max_pool2d_backward_nchw(x.into_primitive(), dy.into_primitive(), kernel, stride))
    }

    fn linear_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: u8,
    ) -> FloatTensor<Self> {
        match LinearBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::linear_act(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), act);
                prep.finish((x_id, w_id, out.clone(), act), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::linear_act(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), act))
            }
        }
    }

    fn linear_act_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        act: u8,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dw, db) = B::linear_act_backward(
            x.into_primitive(),
            weight.into_primitive(),
            y.into_primitive(),
            dy.into_primitive(),
            act,
        );
        (FloatTensor::<Self>::new(dx), FloatTensor::<Self>::new(dw), FloatTensor::<Self>::new(db))
    }

    fn bce_with_logits_rows(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        match BceBackward.prepare::<C>([logits.node(), targets.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let logits_id = prep.checkpoint(&logits);
                let targets_id = prep.checkpoint(&targets);
                let out = B::bce_with_logits_rows(logits.into_primitive(), targets.into_primitive());
                prep.finish((logits_id, targets_id), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::bce_with_logits_rows(logits.into_primitive(), targets.into_primitive()))
            }
        }
    }

    fn bce_with_logits_backward(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        row_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dl, dx) =
            B::bce_with_logits_backward(logits.into_primitive(), targets.into_primitive(), row_grad.into_primitive());
        (FloatTensor::<Self>::new(dl), FloatTensor::<Self>::new(dx))
    }

    fn batch_norm_relu_backward_nchw(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dgamma, dbeta) = B::batch_norm_relu_backward_nchw(
            x.into_primitive(),
            y.into_primitive(),
            dy.into_primitive(),
            gamma.into_primitive(),
            mean.into_primitive(),
            var.into_primitive(),
            epsilon,
        );
        (FloatTensor::<Self>::new(dx), FloatTensor::<Self>::new(dgamma), FloatTensor::<Self>::new(dbeta))
    }

    fn batch_norm_relu_pool_train_nchw(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, IntTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prep = BatchNormPoolBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
        let untracked = |t| FloatTensor::<Self>::new(t);
        let run = |x: FloatTensor<Self>, gamma: FloatTensor<Self>| {
            B::batch_norm_relu_pool_train_nchw(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            )
        };
        match prep {
            OpsKind::Tracked(mut prep) => {
                let (x_id, gamma_id) = (prep.checkpoint(&x), prep.checkpoint(&gamma));
                let (out, winners, mean, var) = run(x, gamma);
                let state = (x_id, gamma_id, winners.clone(), mean.clone(), var.clone(), epsilon);
                (prep.finish(state, out), winners, untracked(mean), untracked(var))
            }
            OpsKind::UnTracked(prep) => {
                let (out, winners, mean, var) = run(x, gamma);
                (prep.finish(out), winners, untracked(mean), untracked(var))
            }
        }
    }

    fn batch_norm_relu_pool_backward_nchw(
        x: FloatTensor<Self>,
        winners: IntTensor<Self>,
        dy: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dgamma, dbeta) = B::batch_norm_relu_pool_backward_nchw(
            x.into_primitive(),
            winners,
            dy.into_primitive(),
            gamma.into_primitive(),
            mean.into_primitive(),
            var.into_primitive(),
            epsilon,
        );
        (FloatTensor::<Self>::new(dx), FloatTensor::<Self>::new(dgamma), FloatTensor::<Self>::new(dbeta))
    }
}
