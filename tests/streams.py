"""A template with one streamed table and the function its stream triggers, for the stream event source tests."""

from pathlib import Path

from npsloop_local.template import Template

TEMPLATE = """
Parameters:
  ScoreBatchSize: {{Type: Number, Default: 25}}
Resources:
  {table}:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{AttributeName: pk, AttributeType: S}}]
      KeySchema: [{{AttributeName: pk, KeyType: HASH}}]
      StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}
  ScoreFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: compute_score.handler.lambda_handler
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: {stream}
            {properties}
"""


def streamed_template(directory: Path, settings: list[str], table: str = "ResponsesTable", stream: str = ""
                      ) -> Template:  # fmt: skip
    """The template with the DynamoDB event's `settings` (YAML lines) and, unless given, `!GetAtt table.StreamArn`."""
    path = directory / "template.yaml"
    path.write_text(TEMPLATE.format(table=table, stream=stream or f"!GetAtt {table}.StreamArn",
                                    properties="\n            ".join(settings)))  # fmt: skip
    return Template(path)
