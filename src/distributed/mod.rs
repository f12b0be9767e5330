//! Data-parallel training across processes, on burn-collective's global all-reduce: every
//! node holds the same data and the same weights; node I of N takes rows I, I + N, I + 2N, …
//! of each step's N × B rows of the shuffled order, and the gradients are averaged over the
//! nodes before every step, so that one step of N nodes is the step of one process with batch
//! N × B. The all-reduce, the orchestrator and the transport are burn-collective's and
//! burn-communication's; nnlab only flattens the gradients into one tensor per step.
//! Federated runs ([`federated`]) average weights once a round instead. `--devices N`
//! peers in one process take the same steps through burn-collective's local all-reduce.

pub mod federated;
pub mod signature;

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorPrimitive};
use burn_collective::ReduceOperation::{self, Sum};
use burn_collective::{AllReduceStrategy, CollectiveConfig, PeerId};
use burn_communication::Address;

use crate::error::{Error, Result};
pub use signature::Signature;

/// This process's place among the nodes of a data-parallel run.
#[derive(Clone, Debug)]
pub struct Node {
    /// How many nodes train the run.
    pub nodes: usize,
    /// This node's index, 0 to `nodes` − 1; node 0 writes the run directory.
    pub index: usize,
    /// The orchestrator's `HOST:PORT`.
    pub orchestrator: String,
    /// Where the other nodes reach this one's tensor service, `HOST:PORT`.
    pub address: String,
    /// How long a node waits for the others before it gives up.
    pub timeout: Duration,
    /// Each node trains on its own data, and the weights are averaged once a round
    /// ([`federated`]); otherwise the gradients are averaged every step.
    pub federated: bool,
    /// One of `--devices N` peers in this process (burn-collective's local all-reduce),
    /// not a process of its own.
    pub local: bool,
}

impl Node {
    /// This node's rows of one step, positions `start..end` of the epoch's `order` (the
    /// table's own order when it is `None`): every N-th, from its index. `None` when the step
    /// has fewer rows than nodes, on every node alike, so that all skip it together.
    pub fn share(&self, order: &Option<Vec<i64>>, start: usize, end: usize) -> Option<Vec<i64>> {
        if end - start < self.nodes {
            return None;
        }
        let row = |i: usize| order.as_ref().map_or(i as i64, |o| o[i]);
        Some(
            (start + self.index..end)
                .step_by(self.nodes)
                .map(row)
                .collect(),
        )
    }
}

impl Node {
    /// Device `index` of `devices` peers in this process.
    pub fn device(devices: usize, index: usize, timeout: Duration) -> Node {
        Node {
            nodes: devices,
            index,
            orchestrator: String::new(),
            address: String::new(),
            timeout,
            federated: false,
            local: true,
        }
    }

    /// Its burn-collective peer id: burn-collective numbers the devices of each process.
    fn peer(&self) -> PeerId {
        PeerId(if self.local { self.index as u32 } else { 0 })
    }

    /// "node I of N", or "device I of N".
    fn name(&self) -> String {
        let kind = if self.local { "device" } else { "node" };
        format!("{kind} {} of {}", self.index, self.nodes)
    }
}

/// This process's place among the nodes, once [`join`] has registered it.
static NODE: OnceLock<Node> = OnceLock::new();

thread_local! {
    /// This thread's device among the `--devices` peers of the process, once [`join_local`]
    /// has registered it. The thread trains in a rayon pool of its own, so that the whole
    /// training loop runs on it.
    static DEVICE: std::cell::Cell<Option<&'static Node>> = const { std::cell::Cell::new(None) };
}

/// The node or device this thread trains as, once registered.
pub fn current() -> Option<&'static Node> {
    DEVICE.with(|d| d.get()).or_else(|| NODE.get())
}

/// Whether this process writes the run: node 0, or a run on one process.
pub fn writes() -> bool {
    current().is_none_or(|n| n.index == 0)
}

/// Splits `HOST:PORT`, naming `flag` when it is not one.
pub fn host_port(value: &str, flag: &str) -> Result<(String, u16)> {
    let bad = || Error::Usage(format!("{flag} must be HOST:PORT, got `{value}`"));
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// A port of 127.0.0.1 that no one listens on now, picked by the OS.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Io {
        path: "127.0.0.1:0".into(),
        source: e,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Io {
            path: "127.0.0.1:0".into(),
            source: e,
        })
}

/// Runs `f` on a thread of its own and waits at most `timeout` for it: a peer that died
/// leaves burn-collective's calls waiting for ever. On a timeout the thread is left blocked,
/// and the error ends the command, with nothing more written.
fn within<T: Send + 'static>(
    node: &Node,
    what: impl FnOnce() -> String,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (send, receive) = std::sync::mpsc::channel();
    // burn-collective panics on a malformed or missing transfer: caught here, its message
    // goes into the error line.
    let call = move || {
        let _ = send.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    };
    std::thread::Builder::new()
        .name(CALL_THREAD.into())
        .spawn(call)
        .map_err(|e| Error::Training(format!("cannot start a thread: {e}")))?;
    let failed = match receive.recv_timeout(node.timeout) {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(_)) => "burn-collective failed".to_string(),
        Err(_) => format!(
            "no answer within --sync-timeout {} s",
            node.timeout.as_secs()
        ),
    };
    let cause = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    let cause = cause.map_or(String::new(), |c| format!(" ({c})"));
    Err(Error::Training(format!(
        "{}: {failed}{cause}{}",
        what(),
        missing(node)
    )))
}

/// The name of the thread that makes each collective call.
const CALL_THREAD: &str = "nnlab-collective";

/// The log target of the orchestrator's lines about nodes that register and leave (marked
/// `nnlab:` in vendor/burn-collective), which `nnlab orchestrate` always prints.
const NODE_EVENTS: &str = "nnlab::nodes";

/// burn-collective's and burn-communication's messages on stderr, at the level that
/// `NNLAB_LOG` names (error, warn, info, debug or trace); none without it, except the
/// orchestrator's lines about nodes when `events`.
pub fn log_from_env(events: bool) {
    struct Stderr {
        level: log::LevelFilter,
        events: bool,
    }
    impl log::Log for Stderr {
        fn enabled(&self, meta: &log::Metadata) -> bool {
            meta.level() <= self.level || (self.events && meta.target() == NODE_EVENTS)
        }
        fn log(&self, record: &log::Record) {
            match record.target() == NODE_EVENTS {
                true if self.events => eprintln!("{}", record.args()),
                _ if record.level() <= self.level => {
                    eprintln!("{} {}: {}", record.level(), record.target(), record.args())
                }
                _ => {}
            }
        }
        fn flush(&self) {}
    }
    // First, so that burn-communication's own subscriber (every connection at INFO) fails
    // to install; its messages reach `log` only.
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    let level = std::env::var("NNLAB_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Off);
    let shown = match events {
        true => level.max(log::LevelFilter::Info),
        false => level,
    };
    if shown == log::LevelFilter::Off {
        return;
    }
    if log::set_boxed_logger(Box::new(Stderr { level, events })).is_ok() {
        log::set_max_level(shown);
    }
}

/// Registers this process with the orchestrator as `node`, waits for the others, and
/// refuses the run when a node differs from node 0 in what it trains ([`signature`]).
/// Returns the classes of all nodes' data, in order, for federated classification: a node
/// may lack some.
pub fn join<B: AutodiffBackend>(
    node: Node,
    mut signature: Signature,
    device: &B::Device,
) -> Result<Option<Vec<String>>> {
    let (_, port) = host_port(&node.address, "--node-address")?;
    let address = |a: &str| Address::from_str(&format!("ws://{a}")).expect("any text parses");
    let config = CollectiveConfig::default()
        .with_num_devices(1)
        .with_num_nodes(node.nodes as u32)
        .with_global_address(address(&node.orchestrator))
        .with_node_address(address(&node.address))
        .with_data_service_port(port)
        // Tensors shorter than the nodes are padded for it (`all_reduce`).
        .with_global_all_reduce_strategy(AllReduceStrategy::Ring);
    log_from_env(false);
    quiet_panics();
    let what = || {
        format!(
            "{} waited for the orchestrator at {} and the other nodes",
            node.name(),
            node.orchestrator
        )
    };
    let inner = device.clone();
    within(&node, what, move || {
        burn_collective::register::<B::InnerBackend>(PeerId(0), inner, config)
    })?
    .map_err(|e| collective_error(&node, "registering with the orchestrator", e))?;
    signature.precision = std::any::type_name::<B::FloatElem>().to_string();
    let mine = serde_json::to_vec(&signature).expect("a signature serializes");
    let nodes = gather_bytes::<B::InnerBackend>(&node, &mine, device)?
        .iter()
        .map(|bytes| serde_json::from_slice::<Signature>(bytes))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Training(format!("a node sent a malformed registration: {e}")))?;
    signature::check(&nodes, node.federated)?;
    let _ = ADDRESSES.set(nodes.iter().map(|n| n.address.clone()).collect());
    let classes = signature::all_classes(&nodes);
    NODE.set(node)
        .map_err(|_| Error::Usage("this process has already joined a run".into()))?;
    Ok(classes)
}

/// Registers this thread as `device`, one of the `--devices` peers of this process, and
/// waits for the others. Call it on the thread that trains: the node is the thread's.
pub fn join_local<B: AutodiffBackend>(device: Node, on: &B::Device) -> Result<()> {
    let config = CollectiveConfig::default().with_num_devices(device.nodes);
    quiet_panics();
    let (peer, on) = (device.peer(), on.clone());
    let what = || format!("{} waited for the other devices", device.name());
    within(&device, what, move || {
        burn_collective::register::<B::InnerBackend>(peer, on, config)
    })?
    .map_err(|e| collective_error(&device, "registering the devices", e))?;
    let device: &'static Node = Box::leak(Box::new(device));
    DEVICE.with(|d| d.set(Some(device)));
    Ok(())
}

/// Where every node's tensors are served, in node order, once [`join`] has heard them.
static ADDRESSES: OnceLock<Vec<String>> = OnceLock::new();

/// The nodes whose tensor service no longer answers, for the line of a failed call: a
/// node that died leaves its port closed.
fn missing(node: &Node) -> String {
    let Some(addresses) = ADDRESSES.get() else {
        return String::new();
    };
    let gone: Vec<String> = addresses
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != node.index)
        .filter(|(_, a)| !answers(a))
        .map(|(i, a)| format!("node {i} ({a})"))
        .collect();
    match gone.len() {
        0 => String::new(),
        _ => format!("; {} no longer answers", gone.join(", ")),
    }
}

fn answers(address: &str) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(mut resolved) = address.to_socket_addrs() else {
        return false;
    };
    resolved.any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// Every node's `bytes`, in node order, through burn-collective's all-reduce (a sum): first
/// of the lengths, then of a table with one row per node, each node's bytes in its own row
/// and zeros elsewhere. Sums of one byte value and zeros are exact in f32.
pub(crate) fn gather_bytes<B: Backend>(
    node: &Node,
    bytes: &[u8],
    device: &B::Device,
) -> Result<Vec<Vec<u8>>> {
    let n = node.nodes;
    let mut lengths = vec![0.0f32; n];
    lengths[node.index] = bytes.len() as f32;
    let lengths = all_reduce(node, Tensor::<B, 1>::from_floats(&lengths[..], device), Sum)?
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| Error::Training(format!("{e:?}")))?;
    let lengths: Vec<usize> = lengths.iter().map(|&l| l as usize).collect();
    let width = lengths.iter().copied().max().unwrap_or(0).max(1);
    let mut table = vec![0.0f32; n * width];
    for (cell, &b) in table[node.index * width..].iter_mut().zip(bytes) {
        *cell = f32::from(b);
    }
    let table = all_reduce(node, Tensor::<B, 1>::from_floats(&table[..], device), Sum)?
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| Error::Training(format!("{e:?}")))?;
    Ok((0..n)
        .map(|i| {
            let row = &table[i * width..i * width + lengths[i].min(width)];
            row.iter().map(|&v| v as u8).collect()
        })
        .collect())
}

/// What burn-communication's threads last panicked with: a peer that vanished makes them
/// panic, and the node's one error line says it instead of their backtraces.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(quiet_panics_now);
}

fn quiet_panics_now() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current().name().map(str::to_string);
        if !name.is_some_and(|n| n.starts_with("tokio") || n == CALL_THREAD) {
            return default(info);
        }
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = message;
    }));
}

/// The error of a collective call, with what burn-communication panicked with, if it did.
fn collective_error(node: &Node, doing: &str, e: burn_collective::CollectiveError) -> Error {
    let cause = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    Error::Training(format!(
        "{}: {doing} failed, a node stopped or its connection broke: \
         {e:?}{}{}",
        node.name(),
        cause.map_or(String::new(), |c| format!(" ({c})")),
        missing(node)
    ))
}

/// The gradients `grads` of `module`, averaged over the nodes; unchanged on one process.
pub fn average<B: AutodiffBackend, M: Module<B>>(
    grads: GradientsParams,
    module: &M,
) -> Result<GradientsParams> {
    let Some(node) = current().filter(|n| !n.federated) else {
        return Ok(grads);
    };
    let mut flat = Flatten::<B> {
        grads,
        pieces: Vec::new(),
        shapes: Vec::new(),
    };
    module.visit(&mut flat);
    let Flatten {
        mut grads,
        pieces,
        shapes,
    } = flat;
    if pieces.is_empty() {
        return Ok(grads);
    }
    let mean = all_reduce(node, Tensor::cat(pieces, 0), ReduceOperation::Mean)?;
    let mut offset = 0;
    for (id, shape) in shapes {
        let n = shape.iter().product::<usize>();
        let piece = mean.clone().slice(offset..offset + n);
        offset += n;
        register_shaped::<B::InnerBackend>(&mut grads, id, piece, &shape);
    }
    Ok(grads)
}

/// The sum of `value` over the nodes; `value` itself on one process.
pub fn sum<B: Backend>(value: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
    match current() {
        Some(node) => all_reduce(node, value, Sum),
        None => Ok(value),
    }
}

fn all_reduce<B: Backend>(
    node: &Node,
    t: Tensor<B, 1>,
    op: ReduceOperation,
) -> Result<Tensor<B, 1>> {
    let what = || format!("{} waited for the other nodes", node.name());
    // A ring cuts the tensor into one part per node: a shorter one is padded with zeros.
    let len = t.dims()[0];
    let t = match len < node.nodes {
        true => Tensor::cat(
            vec![
                t.clone(),
                t.zeros_like().slice(0..1).repeat_dim(0, node.nodes - len),
            ],
            0,
        ),
        false => t,
    };
    let (primitive, peer) = (t.into_primitive().tensor(), node.peer());
    let reduced = within(node, what, move || {
        burn_collective::all_reduce::<B>(peer, primitive, op)
    })?
    .map_err(|e| collective_error(node, "an all-reduce", e))?;
    Ok(Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(reduced)).slice(0..len))
}

/// Unregisters this node, once training is over.
pub fn leave<B: AutodiffBackend>() -> Result<()> {
    let Some(node) = current() else {
        return Ok(());
    };
    let what = || format!("{} waited to leave the run", node.name());
    let peer = node.peer();
    within(node, what, move || {
        burn_collective::finish_collective::<B::InnerBackend>(peer)
    })?
    .map_err(|e| collective_error(node, "leaving the run", e))
}

/// Registers a flat gradient under `id` at the rank its parameter has.
fn register_shaped<B: Backend>(
    grads: &mut GradientsParams,
    id: ParamId,
    flat: Tensor<B, 1>,
    shape: &[usize],
) {
    match *shape {
        [a] => grads.register::<B, 1>(id, flat.reshape([a])),
        [a, b] => grads.register::<B, 2>(id, flat.reshape([a, b])),
        [a, b, c] => grads.register::<B, 3>(id, flat.reshape([a, b, c])),
        [a, b, c, d] => grads.register::<B, 4>(id, flat.reshape([a, b, c, d])),
        _ => unreachable!("nnlab's parameters have one to four axes"),
    }
}

/// Takes each parameter's gradient out of `grads`, flat, in the model's own order, which is
/// the same on every node.
struct Flatten<B: AutodiffBackend> {
    grads: GradientsParams,
    pieces: Vec<Tensor<B::InnerBackend, 1>>,
    shapes: Vec<(ParamId, Vec<usize>)>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Flatten<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let shape = g.dims().to_vec();
            self.pieces
                .push(g.reshape([shape.iter().product::<usize>()]));
            self.shapes.push((param.id, shape));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        Node {
            nodes: 2,
            index: 0,
            orchestrator: "127.0.0.1:1".into(),
            address: "127.0.0.1:2".into(),
            timeout: Duration::from_secs(5),
            federated: false,
            local: false,
        }
    }

    #[test]
    fn a_panic_in_a_collective_call_is_an_error_line_with_its_message() {
        quiet_panics();
        let said = within(
            &node(),
            || "node 0 of 2 waited".into(),
            || -> u8 { panic!("a tensor of shape [3] where [4] was expected") },
        )
        .unwrap_err()
        .to_string();
        assert!(
            said.contains("node 0 of 2 waited: burn-collective failed"),
            "{said}"
        );
        assert!(said.contains("shape [3] where [4]"), "{said}");
        assert_eq!(said.lines().count(), 1);
    }

    #[test]
    fn a_call_that_never_returns_ends_at_the_timeout() {
        let mut quick = node();
        quick.timeout = Duration::from_millis(200);
        let start = std::time::Instant::now();
        let said = within(
            &quick,
            || "node 0 of 2 waited".into(),
            || std::thread::sleep(Duration::from_secs(3)),
        )
        .unwrap_err()
        .to_string();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(said.contains("no answer within --sync-timeout"), "{said}");
    }
}
