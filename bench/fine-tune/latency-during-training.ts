/**
 * Target 2: classify p50 of the default model while a job trains vs idle, in one run: a closed loop of one client
 * (one SST-2 dev sentence per request, the next sent when the last answered) runs through idle windows and
 * training windows taking turns (idle, train, idle, train, ..., idle). A request counts as "training" when the
 * job's last poll (every 500 ms, from the same client process) said running; those sent while it was validating or
 * queued count nowhere.
 */
import type OpenAI from 'openai';
import { sequentialLatency } from '../classify/http-load.js';
import { percentile } from '../common/stats.js';
import { createJob } from './api.js';

export interface LatencyDuringTraining {
  idle: number[];
  training: number[];
  rounds: number;
}

const JOB_POLL_MS = 500;

async function oneRequest(url: string, sentence: string): Promise<number> {
  // sequentialLatency posts {"input"} without a model: the registry's default, `sentiment`.
  return (await sequentialLatency(url, [sentence], 1)).p50;
}

export async function latencyDuringTraining(url: string, client: OpenAI, sentences: string[], trainingFile: string, options: { rounds: number; idleSeconds: number; seed: number }): Promise<LatencyDuringTraining> {
  const idle: number[] = [];
  const training: number[] = [];
  let next = 0;
  const sentence = () => sentences[next++ % sentences.length]!;
  const idleWindow = async () => {
    const end = performance.now() + options.idleSeconds * 1000;
    while (performance.now() < end) idle.push(await oneRequest(url, sentence()));
  };
  for (let round = 0; round < options.rounds; round++) {
    await idleWindow();
    const job = await createJob(client, trainingFile, options.seed + round, `latency${round}`);
    let status: string = job.status;
    const poller = (async () => {
      while (status !== 'succeeded' && status !== 'failed' && status !== 'cancelled') {
        await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
        status = (await client.fineTuning.jobs.retrieve(job.id)).status;
      }
    })();
    while (status !== 'succeeded' && status !== 'failed' && status !== 'cancelled') {
      const running = status === 'running';
      const ms = await oneRequest(url, sentence());
      if (running && status === 'running') training.push(ms);
    }
    await poller;
    if (status !== 'succeeded') throw new Error(`latency round ${round}: the job ended ${status}`);
  }
  await idleWindow();
  console.log(`classify p50 idle ${percentile(idle, 50).toFixed(2)} ms (${idle.length} requests), while training ${percentile(training, 50).toFixed(2)} ms (${training.length})`);
  return { idle, training, rounds: options.rounds };
}
