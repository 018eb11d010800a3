"""Pure task rules: DOMAIN.md's "Policies (the work queue)", one module per policy family.

- follow_up.py: follow_up (sales leads at N/C/B/A/H)
- complaints.py: complaint_callback, complaint_escalation
- service_callbacks.py: post_service_callback, post_delivery_callback
- retention_tasks.py: win_back, maintenance_reminder
- queue.py: all of them together (the schedule, the tasks known at T, the work queue)
- kpis.py: the callback KPIs per dealer and month

Functions of (touchpoints, T, rules, standards): no I/O, no clock.
"""
