-- CreateTable
CREATE TABLE "Server" (
    "id" SERIAL NOT NULL,
    "platform" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "serverDailyJobs" INTEGER,
    "memberDailyJobs" INTEGER,
    "memberActiveJobs" INTEGER,
    "maxSize" INTEGER,
    "maxIterations" INTEGER,
    "serverRunningJobs" INTEGER,
    "memberRunningJobs" INTEGER,
    "lastClaimedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Server_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" SERIAL NOT NULL,
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
    "loss" DOUBLE PRECISION,
    "etaMs" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "workerId" TEXT,
    "heartbeatAt" TIMESTAMP(3),
    "error" TEXT,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "eventPending" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "imagesPurgedAt" TIMESTAMP(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Usage" (
    "id" SERIAL NOT NULL,
    "serverId" INTEGER NOT NULL,
    "requesterId" TEXT NOT NULL,
    "jobId" INTEGER NOT NULL,
    "day" TEXT NOT NULL,
    "refundedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Usage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Preset" (
    "id" SERIAL NOT NULL,
    "serverId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "imageRef" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Preset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Image" (
    "id" TEXT NOT NULL,
    "mime" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Image_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "concurrency" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Usage" ADD CONSTRAINT "Usage_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Usage" ADD CONSTRAINT "Usage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Preset" ADD CONSTRAINT "Preset_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "Server"("id") ON DELETE CASCADE ON UPDATE CASCADE;
