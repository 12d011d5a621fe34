import { NextResponse } from "next/server";

import { createTask, listTasks, updateTaskStatus, isTaskStatus } from "@/lib/tasks";

export const dynamic = "force-dynamic";

export async function GET() {
  return NextResponse.json({ tasks: listTasks() });
}

export async function POST(request: Request) {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return NextResponse.json({ error: "Request body must be JSON." }, { status: 400 });
  }

  const { title, owner } = (body ?? {}) as { title?: unknown; owner?: unknown };
  if (typeof title !== "string" || title.trim().length === 0) {
    return NextResponse.json({ error: "Title is required." }, { status: 400 });
  }
  if (title.length > 140) {
    return NextResponse.json({ error: "Title must be 140 characters or fewer." }, { status: 400 });
  }

  const task = createTask({
    title: title.trim(),
    owner: typeof owner === "string" && owner.trim() ? owner.trim() : "Unassigned",
  });
  return NextResponse.json({ task }, { status: 201 });
}

export async function PATCH(request: Request) {
  const body = (await request.json().catch(() => null)) as
    | { id?: unknown; status?: unknown }
    | null;

  if (!body || typeof body.id !== "string" || !isTaskStatus(body.status)) {
    return NextResponse.json({ error: "Expected { id, status }." }, { status: 400 });
  }

  const task = updateTaskStatus(body.id, body.status);
  if (!task) {
    return NextResponse.json({ error: "Task not found." }, { status: 404 });
  }
  return NextResponse.json({ task });
}
