"""Running batches on a cluster: the Ray backend of ``qc transcribe|score --ray`` (issue 13).

- ``connect``: which Ray (a local one for the command, ``auto``, an address), joined quietly and left as found;
- ``driver``: ``run_on_ray``, a ``qc.workers.Task`` over many inputs as Ray tasks, with ``run_in_workers``'s
  contract (one result or Failure per input), a bounded window in flight and bounded retries of dead workers;
- ``shipping``: recordings sent as bytes, read by the worker from a temporary copy, named by their own path;
- ``recordings``: the pipeline's hook: cached recordings skipped in the driver, workers that only recognise,
  transcripts cached and scored in the driver.

Ray is imported only when a batch runs on it: qc without ``qc[ray]`` works as before.
"""
