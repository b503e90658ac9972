"""An app using boto3 as apps do: only AWS_ENDPOINT_URL_SQS (plus region and keys) points it
at the daemon. Runs one scenario and prints what it saw as JSON, for sqs-python.test.ts."""
import base64
import json
import sys

import boto3
import botocore.exceptions

queue_name = sys.argv[1]
binary = base64.b64decode(sys.argv[2])
sqs = boto3.client("sqs")
out = {}

url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
out["createUrl"] = url
out["getUrl"] = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
out["listed"] = sqs.list_queues(QueueNamePrefix=queue_name).get("QueueUrls", [])

attributes = {
    "s": {"DataType": "String", "StringValue": "héllo\r\nwörld ✓ \t<&>"},
    "n": {"DataType": "Number", "StringValue": "-12345.678901234567890123456789012345e-20"},
    "b": {"DataType": "Binary", "BinaryValue": binary},
    "custom": {"DataType": "String.json", "StringValue": '{"a": [1, 2]}'},
}
sent = sqs.send_message(QueueUrl=url, MessageBody="body ✓ from boto3", MessageAttributes=attributes)
out["send"] = {k: sent.get(k) for k in ("MessageId", "MD5OfMessageBody", "MD5OfMessageAttributes")}

batch = sqs.send_message_batch(
    QueueUrl=url,
    Entries=[
        {"Id": "good", "MessageBody": "second"},
        {"Id": "bad", "MessageBody": "has a \u0000 in it"},
    ],
)
out["batch"] = {"Successful": [e["Id"] for e in batch.get("Successful", [])], "Failed": batch.get("Failed", [])}

received = []
for _ in range(20):
    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"])
    for m in r.get("Messages", []):
        attrs = {}
        for name, a in m.get("MessageAttributes", {}).items():
            a = dict(a)
            if "BinaryValue" in a:
                a["BinaryValue"] = base64.b64encode(a["BinaryValue"]).decode()
            attrs[name] = a
        received.append({"Body": m["Body"], "MessageAttributes": attrs, "MD5OfMessageAttributes": m.get("MD5OfMessageAttributes")})
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    if len(received) >= 2:
        break
out["received"] = received

try:
    sqs.get_queue_url(QueueName=queue_name + "-missing")
    out["missing"] = "no error"
except sqs.exceptions.QueueDoesNotExist as e:
    out["missing"] = {"class": "QueueDoesNotExist", "code": e.response["Error"]["Code"]}
except botocore.exceptions.ClientError as e:
    out["missing"] = {"class": type(e).__name__, "code": e.response["Error"]["Code"]}

print(json.dumps(out))
