import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AKID, SECRET } from './daemon.js';

/**
 * The AWS SDK's SQS and S3 clients for an emulator (fauxqs serves both on one endpoint), signed
 * with the tests' key pair; S3 path-style, as fauxqs needs. With `bucket`, that bucket is created.
 */
export async function awsClients(endpoint: string, bucket?: string): Promise<{ sqs: SQSClient; s3: S3Client }> {
  const credentials = { accessKeyId: AKID, secretAccessKey: SECRET };
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials });
  const s3 = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  if (bucket !== undefined) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { sqs, s3 };
}
