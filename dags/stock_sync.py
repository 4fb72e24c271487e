"""Stock sync: push each channel's allocated quantity once the marts passed validation.

Scheduled on the ``marts_validated`` Asset, so stock is only ever computed from marts that passed
every critical expectation. ``channelhub.stock.sync_stock`` (the code path behind ``channelhub
sync-stock``) reads ``marts.rpt_stock_availability``, sends only the levels that differ from what the
channel holds (compare-and-set, so a retry never applies a change twice) and audits every attempt in
``ops.stock_push_log``; the same call mirrors the allocations to ``stock.mirrors`` (an ERP's form). The
DAG exists only when ``channelhub.yml`` has a ``stock:`` section; a channel's or mirror's ``enabled:
false`` there is the kill switch.

Outcome per channel (and mirror): one that could not be reached fails the task and is retried; a refused
push fails it without retries, naming the reason. A guardrail refusal (too many levels zeroed, a steep
drop) needs a person: check the marts, then run ``channelhub sync-stock --force``. A readiness refusal
(a newer build not validated yet, a stale source) clears itself: the next validated build triggers
this DAG again. Stale levels (changed on the channel since the last load) are reported, not
overwritten, and do not fail the run. **alerts** then evaluates the reminders (a refused or failed push
is one) and sends what is due, whatever the push did.
"""

from __future__ import annotations

from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowFailException
from channelhub_dags import assets
from channelhub_dags.common import check_alerts_task, dag_args, load_hub, log

from connectors.sdk import ChannelhubError

policy = load_hub().stock
if policy is not None:
    with DAG(
        dag_id="channelhub_stock_sync",
        schedule=assets.VALIDATED,
        doc_md=__doc__,
        **dag_args("stock", accounts=tuple(sorted([*policy.channels, *policy.mirrors]))),
    ) as dag:

        @task
        def sync_stock() -> dict[str, str]:
            from channelhub.stock import ChannelStatus
            from channelhub.stock import sync_stock as push

            report = push(load_hub())
            targets = [*report.channels, *report.mirrors]
            for channel in targets:
                counts = channel.outcomes
                log.info("stock sync %s%s: %s, %d levels, %d changed, %d pushed, %d stale, %d failed%s",
                         channel.channel, " (mirror)" if channel in report.mirrors else "", channel.status.value,
                         channel.levels, len(channel.changes), counts["success"], counts["stale"], counts["failed"],
                         f" ({'; '.join(channel.reasons)})" if channel.reasons else "")
            failed = [c.channel for c in targets if c.status == ChannelStatus.FAILED]
            refused = [f"{c.channel} ({'; '.join(c.reasons)})" for c in targets if c.status == ChannelStatus.REFUSED]
            if failed:
                raise ChannelhubError(f"stock sync {report.sync_id}: channel(s) {', '.join(failed)} failed; "
                                      "a retry sends only the levels still different")
            if refused:
                raise AirflowFailException(f"stock sync {report.sync_id} refused: {', '.join(refused)}")
            return {channel.channel: channel.status.value for channel in targets}

        sync_stock() >> check_alerts_task()
