"""Template excerpts: read from templates/ when shown, with a sentence per setting."""

from __future__ import annotations

import pytest
import yaml

from helpers.aws import templates


def test_an_excerpt_shows_the_templates_settings_each_under_its_reason():
    shown = templates.excerpt("replication.yaml", "StreamMapping", why={
        "BatchSize": "Up to this many records per invocation.",
        "FunctionResponseTypes": "Only the failed records are retried.",
        "DestinationConfig": "Batches given up on are described in the queue."},
        show=("StartingPosition",))
    text = shown.text()
    assert text.splitlines()[:4] == [
        "# templates/replication.yaml · StreamMapping", "StreamMapping:",
        "  Type: AWS::Lambda::EventSourceMapping", "  Properties:"]
    assert ("    # Up to this many records per invocation.\n"
            "    BatchSize: !Ref BatchSize  # parameter BatchSize, default 100") in text
    assert "      - ReportBatchItemFailures" in text
    assert "        Destination: !GetAtt FailureQueue.Arn" in text
    assert "StartingPosition: TRIM_HORIZON" in text
    assert repr(shown) == text and "<pre" in shown._repr_html_()


def test_the_excerpt_is_read_from_the_template_each_time(tmp_path, monkeypatch):
    monkeypatch.setattr(templates, "TEMPLATES", tmp_path)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}}}}))
    assert "DelaySeconds: 1" in templates.excerpt("t.yaml", "Q", why={"DelaySeconds": "x"}).text()
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}}}))
    assert "DelaySeconds: 5" in templates.excerpt("t.yaml", "Q", why={"DelaySeconds": "x"}).text()


def test_a_setting_the_template_no_longer_has_fails_instead_of_being_explained():
    with pytest.raises(templates.TemplateError, match="no property 'BatchSizes'"):
        templates.excerpt("replication.yaml", "StreamMapping", why={"BatchSizes": "gone"})
    with pytest.raises(templates.TemplateError, match="no resource"):
        templates.excerpt("replication.yaml", "Nothing", why={})


def test_excerpts_join():
    both = (templates.excerpt("replication.yaml", "StreamMapping", why={"BatchSize": "a"})
            + templates.excerpt("replication.yaml", "FailureQueue",
                                why={"MessageRetentionPeriod": "b"}))
    assert both.text().count("# templates/replication.yaml") == 2
