//! Typed plugin failures: every way a plugin call or load can go wrong.

/// Why one plugin call failed. The pipeline turns each into a `plugin_error` finding and
/// applies the plugin's `on_error` policy; the instance involved is discarded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PluginFailure {
    /// The call ran past its wall-clock deadline.
    #[error("exceeded its deadline of {limit_ms} ms")]
    Deadline {
        /// The deadline.
        limit_ms: u64,
    },
    /// The call used up its fuel budget.
    #[error("ran out of fuel (budget {limit})")]
    Fuel {
        /// The budget.
        limit: u64,
    },
    /// The instance tried to grow its memory past the cap.
    #[error("tried to use more than its memory cap of {limit_mib} MiB")]
    Memory {
        /// The cap.
        limit_mib: u32,
    },
    /// The guest overflowed its stack (for example unbounded recursion).
    #[error("overflowed its stack")]
    StackOverflow,
    /// The guest trapped (panic, unreachable, bad memory access…).
    #[error("trapped: {message}")]
    Trap {
        /// The trap and, when the plugin printed one, its panic message.
        message: String,
    },
    /// The call returned something the host refuses (too large, malformed findings).
    #[error("returned invalid output: {reason}")]
    InvalidOutput {
        /// What was wrong, naming the finding and field.
        reason: String,
    },
    /// The plugin itself returned an error.
    #[error("reported an error `{code}`: {message}")]
    Reported {
        /// The plugin's error code.
        code: String,
        /// The plugin's message.
        message: String,
    },
    /// A fresh instance could not be created.
    #[error("could not be instantiated: {reason}")]
    Instantiate {
        /// Why.
        reason: String,
    },
    /// The call was not made: the plugin failed too often in a row and its circuit breaker
    /// has it quarantined.
    #[error(
        "is quarantined after {failures} consecutive failures (last: {last}); {probe_in} more refused calls before a probe"
    )]
    Quarantined {
        /// Failed calls in a row that led here.
        failures: u32,
        /// The last failure's message.
        last: String,
        /// Refused calls left before the probe call.
        probe_in: u64,
    },
    /// The host failed to serve the plugin (storage error); not the plugin's fault.
    #[error("host error while serving the plugin: {reason}")]
    Host {
        /// Why.
        reason: String,
    },
}

impl PluginFailure {
    /// A stable short name for metrics and findings: `deadline`, `fuel`, `memory`,
    /// `stack_overflow`, `trap`, `invalid_output`, `reported`, `instantiate`, `quarantined`,
    /// `host`.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginFailure::Deadline { .. } => "deadline",
            PluginFailure::Fuel { .. } => "fuel",
            PluginFailure::Memory { .. } => "memory",
            PluginFailure::StackOverflow => "stack_overflow",
            PluginFailure::Trap { .. } => "trap",
            PluginFailure::InvalidOutput { .. } => "invalid_output",
            PluginFailure::Reported { .. } => "reported",
            PluginFailure::Instantiate { .. } => "instantiate",
            PluginFailure::Quarantined { .. } => "quarantined",
            PluginFailure::Host { .. } => "host",
        }
    }
}

/// Why a plugin could not be loaded. The message names the plugin's problem precisely
/// enough to fix it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The `.wasm` could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error (in the message; not chained, so it is not printed twice).
        error: std::io::Error,
    },
    /// No bundled plugin has that name.
    #[error("there is no bundled plugin named `{name}` (bundled: {available})")]
    UnknownBundled {
        /// The name asked for.
        name: String,
        /// The names there are.
        available: String,
    },
    /// The content digest differs from the pinned `sha256`.
    #[error("sha256 mismatch: the configuration pins {expected} but the file is {actual}")]
    DigestMismatch {
        /// The pinned digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// The bytes are not a valid WebAssembly component for this host.
    #[error("not a valid component: {reason}")]
    Compile {
        /// Wasmtime's explanation.
        reason: String,
    },
    /// The component imports something the sandbox does not provide.
    #[error("imports `{import}`, which Probity does not provide: {why}")]
    ForbiddenImport {
        /// The import name.
        import: String,
        /// What the sandbox denies and what to do.
        why: String,
    },
    /// The component does not fit the `probity:plugin` world (exports or types).
    #[error("does not implement the probity:plugin world: {reason}")]
    Link {
        /// Wasmtime's explanation.
        reason: String,
    },
    /// Calling `manifest` or `validate-settings` failed.
    #[error("failed during {stage}: {failure}")]
    Startup {
        /// `manifest` or `validate-settings`.
        stage: &'static str,
        /// The typed failure.
        failure: PluginFailure,
    },
    /// The manifest is malformed.
    #[error("has an invalid manifest: {reason}")]
    Manifest {
        /// What is wrong.
        reason: String,
    },
    /// The plugin refused its settings.
    #[error("refused its settings: `{field}`: {message}")]
    Settings {
        /// The setting, as the plugin names it.
        field: String,
        /// The plugin's explanation.
        message: String,
    },
    /// The compiled-plugin cache failed in a way that stops loading.
    #[error("compiled-plugin cache: {0}")]
    Cache(String),
}
