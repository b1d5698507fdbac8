-- CreateTable
CREATE TABLE "Server" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "platform" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "serverDailyJobs" INTEGER,
    "memberDailyJobs" INTEGER,
    "memberActiveJobs" INTEGER,
    "maxSize" INTEGER,
    "maxIterations" INTEGER,
    "serverRunningJobs" INTEGER,
    "memberRunningJobs" INTEGER,
    "lastClaimedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Job" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serverId" INTEGER NOT NULL,
    "channelId" TEXT NOT NULL,
    "threadId" TEXT,
    "requesterId" TEXT NOT NULL,
    "options" TEXT NOT NULL,
    "contentRef" TEXT NOT NULL,
    "styleRefs" TEXT NOT NULL,
    "previewRef" TEXT,
    "resultRef" TEXT,
    "comparisonRef" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "cancelledBy" TEXT,
    "iteration" INTEGER NOT NULL DEFAULT 0,
    "loss" REAL,
    "etaMs" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "workerId" TEXT,
    "heartbeatAt" DATETIME,
    "error" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "eventPending" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "imagesPurgedAt" DATETIME,
    CONSTRAINT "Job_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Usage" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serverId" INTEGER NOT NULL,
    "requesterId" TEXT NOT NULL,
    "jobId" INTEGER NOT NULL,
    "day" TEXT NOT NULL,
    "refundedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Usage_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Usage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Preset" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serverId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "imageRef" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Preset_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Image" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "mime" TEXT NOT NULL,
    "bytes" BLOB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Server_platform_externalId_key" ON "Server"("platform", "externalId");

-- CreateIndex
CREATE INDEX "Job_status_serverId_idx" ON "Job"("status", "serverId");

-- CreateIndex
CREATE INDEX "Job_serverId_requesterId_status_idx" ON "Job"("serverId", "requesterId", "status");

-- CreateIndex
CREATE INDEX "Job_eventPending_idx" ON "Job"("eventPending");

-- CreateIndex
CREATE INDEX "Job_finishedAt_idx" ON "Job"("finishedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Usage_jobId_key" ON "Usage"("jobId");

-- CreateIndex
CREATE INDEX "Usage_serverId_day_requesterId_idx" ON "Usage"("serverId", "day", "requesterId");

-- CreateIndex
CREATE UNIQUE INDEX "Preset_serverId_name_key" ON "Preset"("serverId", "name");
