/** The work items' tasks (GET /api/v1/work-items/tasks): labels, the fields each shows, and for which purposes the caller may hand it over. */
import { api, must } from '../api/client.ts';

export type Task = Awaited<ReturnType<typeof loadTasks>>[number];

/** The tasks, as the server lists them for the logged-in role. */
export const loadTasks = async () => (await must(api.GET('/api/v1/work-items/tasks'))).tasks;
