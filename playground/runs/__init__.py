"""The one run layer: every long training (image models, VAE lab trainings, families to come) is a run directory.

Layout of a run directory (see rundir.py): config.json, status.json, metrics.jsonl, samples/, checkpoints/
(latest.pt, best.pt), log.txt, LOCK, STOP, launch.json, process.out. The training process owns the directory
under a writer lock; pages and the CLI only read it (plus the STOP request). The disk is the truth.

Public API (import from the submodules; this package imports nothing heavy):

    playground.runs.root         runs_root() -> Path: $PLAYGROUND_RUNS, default ./runs (the one run root)
    playground.runs.states       QUEUED, RUNNING, COMPLETED, FAILED, STOPPED; STATES; ACTIVE; FINISHED;
                                 normalise(status) (older words such as "done" read as "completed");
                                 detail goes in status.json's `phase` (loading, training, evaluating: ...)
    playground.runs.files        atomic_write_bytes/atomic_write_json (temp file + fsync + rename), read_json,
                                 append_jsonl, read_jsonl, write_jsonl, remove_temp_files
    playground.runs.liveness     pid_alive(pid, host=None, started=None) -> True/False/None (other host),
                                 this_host(), process_start(pid), me(), describe(owner) -> "pid@host"
    playground.runs.lock         WriterLock(run_dir) (flock on LOCK; a killed owner never blocks), RunInUse,
                                 lock_owner(run_dir)
    playground.runs.checkpoints  save_checkpoint(path, state, format), load_checkpoint(path, format, what=...,
                                 max_bytes=..., sha256=None) (weights_only=True), sha256_file, versions;
                                 LATEST/BEST -> checkpoints/latest.pt, checkpoints/best.pt
    playground.runs.rundir       RunDir(path): .create(path, config, kind) (holds the lock), .open(path),
                                 acquire/release, config/write_config, kind, read_status/write_status,
                                 effective_status (a vanished process reads as failed), is_active,
                                 append_metrics/read_metrics/truncate_metrics, save_samples/samples,
                                 checkpoint_path(which)/latest_path/best_path/checkpoints(), log/log_tail,
                                 request_stop/stop_requested/clear_stop, summary();
                                 list_runs(root=None, kind=None), delete_run(path), new_run_name(config, kind)
    playground.runs.resume       resume_config(run, cls, requested, may_change): equal flags pass, real changes
                                 of other settings are refused naming both values
    playground.runs.launcher     start(cfg, name=None, *, nproc=1, root=None) -> Path (trainer chosen by the
                                 config's type: ImageRunConfig -> playground.images.train, VAEConfig ->
                                 playground vae train = playground.vae.train), stop(path),
                                 resume(path, steps=None, *, nproc=1) (`steps` is the run's length: steps for
                                 images, epochs for VAEs),
                                 delete(path), wait(path, timeout) -> final status, running();
                                 register(TrainerSpec(kind, "module:Config", "trainer.module", length="steps"))

A trainer module accepts `<playground.configs.to_args(cfg)> --out DIR --json` for a new run and
`--resume DIR [--<length> N] --json` to continue one; it creates the run with RunDir.create (or takes it
with RunDir.open(...).acquire() on resume), writes status in the state vocabulary and checkpoints with
save_checkpoint under its family's format tag ("playground.images/1", "playground.vae/1").
"""
